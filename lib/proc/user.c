#include "proc/user.h"

#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static int parse_id(const char *s, unsigned long *out)
{
    if (!all_digits(s) || strlen(s) > 10)
        return -EINVAL;
    *out = strtoul(s, NULL, 10);
    return *out < (unsigned long)(uid_t)-1 ? 0 : -EINVAL;
}

/* The user database is read from the files themselves, never through NSS: a static glibc asked
 * getpwnam() or getgrouplist() dlopens the modules the image's nsswitch.conf names (e.g.
 * libnss_systemd.so.2, built against the image's libc.so.6, not the one linked in) and crashes
 * in them. fgetpwent/fgetgrent are glibc's (and musl's) parsers of the files' own syntax. */
struct pw_entry {
    bool found;
    uid_t uid;
    gid_t gid;
    char name[64];
    char home[256];
};

/* Looks up a passwd entry by name (name != NULL) or by uid. 0 (found or not), or -errno when
 * the file cannot be read; a missing file has no entries. */
static int passwd_find(const char *path, const char *name, uid_t uid, struct pw_entry *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? 0 : -errno;
    struct passwd *pw;
    while ((pw = fgetpwent(f))) {
        /* '+'/'-' lines are compat's references to NIS, not users. */
        if (!pw->pw_name || *pw->pw_name == '+' || *pw->pw_name == '-' ||
            (name ? strcmp(pw->pw_name, name) != 0 : pw->pw_uid != uid))
            continue;
        if (strlen(pw->pw_name) >= sizeof out->name)
            continue;
        out->found = true;
        out->uid = pw->pw_uid;
        out->gid = pw->pw_gid;
        snprintf(out->name, sizeof out->name, "%s", pw->pw_name);
        snprintf(out->home, sizeof out->home, "%s",
                 pw->pw_dir && *pw->pw_dir && strlen(pw->pw_dir) < sizeof out->home ? pw->pw_dir
                                                                                    : "/");
        break;
    }
    fclose(f);
    return 0;
}

static void add_group(struct user_spec *u, gid_t g, bool *truncated)
{
    for (int i = 0; i < u->ngroups; i++)
        if (u->groups[i] == g)
            return;
    if (u->ngroups == USER_MAX_GROUPS - 1) { /* one place is the gid's */
        *truncated = true;
        return;
    }
    u->groups[u->ngroups++] = g;
}

/* One pass over the group file: the gid of `group` (when given) and, for a named user, every
 * group that lists it as a member. */
static int group_scan(const char *path, const char *group, gid_t *gid, bool *gfound,
                      const char *member, struct user_spec *u, bool *truncated)
{
    *gfound = false;
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? 0 : -errno;
    struct group *gr;
    while ((gr = fgetgrent(f))) {
        if (!gr->gr_name || *gr->gr_name == '+' || *gr->gr_name == '-')
            continue;
        if (group && !*gfound && strcmp(gr->gr_name, group) == 0) {
            *gid = gr->gr_gid;
            *gfound = true;
        }
        if (member && gr->gr_mem)
            for (char **m = gr->gr_mem; *m; m++)
                if (strcmp(*m, member) == 0) {
                    add_group(u, gr->gr_gid, truncated);
                    break;
                }
    }
    fclose(f);
    return 0;
}

int user_resolve_files(const char *spec, const char *passwd_path, const char *group_path,
                       struct user_spec *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (!spec || !*spec)
        return 0;
    char who[64], grp[64] = "";
    const char *colon = strchr(spec, ':');
    size_t wlen = colon ? (size_t)(colon - spec) : strlen(spec);
    if (wlen == 0 || wlen >= sizeof who ||
        (colon && (!colon[1] || strlen(colon + 1) >= sizeof grp))) {
        snprintf(err, errlen, "user '%s' is not NAME, UID or UID:GID", spec);
        return -EINVAL;
    }
    memcpy(who, spec, wlen);
    who[wlen] = '\0';
    if (colon)
        snprintf(grp, sizeof grp, "%s", colon + 1);

    struct pw_entry pw;
    unsigned long id;
    int rc;
    if (all_digits(who)) {
        if (parse_id(who, &id) < 0) {
            snprintf(err, errlen, "user '%s': uid out of range", spec);
            return -EINVAL;
        }
        u->uid = (uid_t)id;
        /* A numeric uid need not exist; its entry only supplies HOME, the name and groups. */
        rc = passwd_find(passwd_path, NULL, u->uid, &pw);
    } else {
        rc = passwd_find(passwd_path, who, 0, &pw);
        if (rc == 0 && !pw.found) {
            snprintf(err, errlen,
                     "user '%s' is not in %s (devinit reads %s and %s, not NSS): create it "
                     "(useradd) or give a numeric UID[:GID]",
                     who, passwd_path, passwd_path, group_path);
            return -ENOENT;
        }
        u->uid = pw.uid;
    }
    if (rc < 0) {
        snprintf(err, errlen, "user '%s': cannot read %s: %s", spec, passwd_path, strerror(-rc));
        return rc;
    }
    u->gid = pw.found ? pw.gid : u->uid;
    snprintf(u->name, sizeof u->name, "%s", pw.found ? pw.name : who);
    snprintf(u->home, sizeof u->home, "%s", pw.found ? pw.home : "/");

    bool named_group = *grp && !all_digits(grp);
    if (*grp && !named_group) {
        if (parse_id(grp, &id) < 0) {
            snprintf(err, errlen, "user '%s': gid out of range", spec);
            return -EINVAL;
        }
        u->gid = (gid_t)id;
    }
    /* Supplementary groups come from the group file for a user with an entry; a bare uid gets
     * just its gid, as docker's --user does. The gid comes first. */
    gid_t named_gid = 0;
    bool gfound = false, truncated = false;
    u->ngroups = 0;
    rc = named_group || pw.found ? group_scan(group_path, named_group ? grp : NULL, &named_gid,
                                              &gfound, pw.found ? pw.name : NULL, u, &truncated)
                                 : 0;
    if (rc < 0) {
        snprintf(err, errlen, "user '%s': cannot read %s: %s", spec, group_path, strerror(-rc));
        return rc;
    }
    if (named_group) {
        if (!gfound) {
            snprintf(err, errlen,
                     "group '%s' is not in %s (devinit reads %s and %s, not NSS): create it "
                     "(groupadd) or give a numeric GID",
                     grp, group_path, passwd_path, group_path);
            return -ENOENT;
        }
        u->gid = named_gid;
    }
    /* The gid, once, in front of what the scan found. */
    int n = 0;
    for (int i = 0; i < u->ngroups; i++)
        if (u->groups[i] != u->gid)
            u->groups[n++] = u->groups[i];
    memmove(u->groups + 1, u->groups, (size_t)n * sizeof u->groups[0]);
    u->groups[0] = u->gid;
    u->ngroups = n + 1;
    if (truncated)
        log_warn(NULL, "user '%s' is in more than %d groups: keeping the first %d", u->name,
                 USER_MAX_GROUPS, USER_MAX_GROUPS);
    u->set = true;
    return 0;
}

int user_resolve(const char *spec, struct user_spec *u, char *err, size_t errlen)
{
    return user_resolve_files(spec, "/etc/passwd", "/etc/group", u, err, errlen);
}

int user_check_switch(const struct user_spec *u, char *err, size_t errlen)
{
    if (!u->set || geteuid() == 0 || (geteuid() == u->uid && getegid() == u->gid))
        return 0;
    snprintf(err, errlen,
             "cannot run as user '%s' (uid %u): devinit runs as uid %u, not root: remove "
             "[app] user or start devinit as root",
             u->name, (unsigned)u->uid, (unsigned)geteuid());
    return -EPERM;
}

static uid_t adopt_uid;
static gid_t adopt_gid;
static int adopt_errors;

static int adopt_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (st->st_uid == 0 && lchown(path, adopt_uid, adopt_gid) < 0) {
        if (adopt_errors++ == 0)
            log_warn(NULL, "cannot hand '%s' to uid %u: %s", path, (unsigned)adopt_uid,
                     strerror(errno));
    }
    return 0;
}

int user_adopt_tree(const struct user_spec *u, const char *path)
{
    struct stat st;
    if (!u->set || u->uid == 0 || geteuid() != 0)
        return 0;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (st.st_uid != 0)
        return 0;
    log_info(NULL, "'%s' belongs to root: handing it to user '%s'", path, u->name);
    adopt_uid = u->uid;
    adopt_gid = u->gid;
    adopt_errors = 0;
    /* FTW_PHYS: never follow a symlink out of the tree. */
    if (nftw(path, adopt_one, 32, FTW_PHYS | FTW_MOUNT) < 0)
        return -errno;
    return adopt_errors ? -EPERM : 0;
}
