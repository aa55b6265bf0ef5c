/* The user the steps and the app run as: `[app] user = NAME|UID[:GID]`. Resolved once, before
 * anything is spawned (name lookups allocate and may read files: never between fork and
 * exec). */
#ifndef DEVINIT_USER_H
#define DEVINIT_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define USER_MAX_GROUPS 64

struct user_spec {
    bool set; /* false: run as devinit's own user */
    uid_t uid;
    gid_t gid;
    gid_t groups[USER_MAX_GROUPS]; /* supplementary groups, gid first */
    int ngroups;
    char name[64];  /* USER and LOGNAME; the uid in decimal when it has no entry */
    char home[256]; /* HOME; "/" when it has no entry */
};

/* Parses and resolves spec ("node", "1000", "1000:1000", "node:staff") from /etc/passwd and
 * /etc/group, never through NSS (see user.c). A name must be in the files; a numeric uid need
 * not (containers often run arbitrary uids). Returns 0, or -EINVAL/-ENOENT/-errno with a
 * message naming the spec, the files read and the remedy. */
int user_resolve(const char *spec, struct user_spec *u, char *err, size_t errlen);

/* The same, from the given files (the unit tests' fixtures). */
int user_resolve_files(const char *spec, const char *passwd_path, const char *group_path,
                       struct user_spec *u, char *err, size_t errlen);

/* Whether this process can switch to u: it is root, or already is u. 0, or -EPERM with a
 * message. */
int user_check_switch(const struct user_spec *u, char *err, size_t errlen);

/* Hands a path and everything below it to u when it is owned by root (a named volume docker
 * created) and u is not root, so an install does not leave root-owned files. 0 or -errno
 * (logged). */
int user_adopt_tree(const struct user_spec *u, const char *path);

#endif
