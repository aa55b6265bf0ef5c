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

int user_resolve(const char *spec, struct user_spec *u, char *err, size_t errlen)
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

    struct passwd *pw;
    unsigned long id;
    errno = 0;
    if (all_digits(who)) {
        if (parse_id(who, &id) < 0) {
            snprintf(err, errlen, "user '%s': uid out of range", spec);
            return -EINVAL;
        }
        u->uid = (uid_t)id;
        pw = getpwuid(u->uid);
    } else {
        pw = getpwnam(who);
        if (!pw) {
            snprintf(err, errlen,
                     "user '%s' does not exist in this image: create it (useradd) or give a "
                     "numeric UID[:GID]",
                     who);
            return -ENOENT;
        }
        u->uid = pw->pw_uid;
    }
    u->gid = pw ? pw->pw_gid : u->uid;
    snprintf(u->name, sizeof u->name, "%s", pw ? pw->pw_name : who);
    snprintf(u->home, sizeof u->home, "%s", pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/");

    if (*grp) {
        if (all_digits(grp)) {
            if (parse_id(grp, &id) < 0) {
                snprintf(err, errlen, "user '%s': gid out of range", spec);
                return -EINVAL;
            }
            u->gid = (gid_t)id;
        } else {
            struct group *gr = getgrnam(grp);
            if (!gr) {
                snprintf(err, errlen,
                         "group '%s' does not exist in this image: create it or give a numeric GID",
                         grp);
                return -ENOENT;
            }
            u->gid = gr->gr_gid;
        }
    }

    /* Supplementary groups come from the group database for a named user; a bare uid gets
     * just its gid, as docker's --user does. */
    u->groups[0] = u->gid;
    u->ngroups = 1;
    if (pw) {
        int n = USER_MAX_GROUPS;
        if (getgrouplist(pw->pw_name, u->gid, u->groups, &n) < 0) {
            log_warn(NULL, "user '%s' is in more than %d groups: keeping the first %d", pw->pw_name,
                     USER_MAX_GROUPS, USER_MAX_GROUPS);
            n = USER_MAX_GROUPS;
        }
        u->ngroups = n;
    }
    u->set = true;
    return 0;
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
