#include "base/stamp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"

/* A stamp is a few hundred bytes; anything larger is not ours. */
#define STAMP_FILE_MAX (STAMP_MAX_FIELDS * (STAMP_KEY_MAX + STAMP_VALUE_MAX) + 4096)

void stamp_init(struct stamp *s)
{
    s->count = 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int stamp_set(struct stamp *s, const char *key, const char *value)
{
    size_t klen = strlen(key), vlen = strlen(value);
    if (klen == 0 || key[0] == '#')
        return -EINVAL;
    for (size_t i = 0; i < klen; i++)
        if (is_space(key[i]))
            return -EINVAL;
    if (strchr(value, '\n') || strchr(value, '\r'))
        return -EINVAL;
    if (klen >= STAMP_KEY_MAX || vlen >= STAMP_VALUE_MAX)
        return -E2BIG;
    struct stamp_field *f = NULL;
    for (unsigned i = 0; i < s->count; i++)
        if (strcmp(s->fields[i].key, key) == 0)
            f = &s->fields[i];
    if (!f) {
        if (s->count >= STAMP_MAX_FIELDS)
            return -E2BIG;
        f = &s->fields[s->count++];
        memcpy(f->key, key, klen + 1);
    }
    memcpy(f->value, value, vlen + 1);
    return 0;
}

const char *stamp_get(const struct stamp *s, const char *key)
{
    for (unsigned i = 0; i < s->count; i++)
        if (strcmp(s->fields[i].key, key) == 0)
            return s->fields[i].value;
    return NULL;
}

const char *stamp_first_difference(const struct stamp *want, const struct stamp *have)
{
    for (unsigned i = 0; i < want->count; i++) {
        const char *v = stamp_get(have, want->fields[i].key);
        if (!v || strcmp(v, want->fields[i].value) != 0)
            return want->fields[i].key;
    }
    for (unsigned i = 0; i < have->count; i++)
        if (!stamp_get(want, have->fields[i].key))
            return have->fields[i].key;
    return NULL;
}

int stamp_parse(const char *text, size_t len, struct stamp *s)
{
    stamp_init(s);
    size_t pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl ? 1 : 0);
        if (llen > 0 && line[llen - 1] == '\r')
            llen--;
        if (llen == 0 || line[0] == '#')
            continue;
        if (memchr(line, '\0', llen))
            return -EINVAL;
        size_t k = 0;
        while (k < llen && !is_space(line[k]))
            k++;
        if (k == 0 || k >= STAMP_KEY_MAX || k == llen || line[k] != ' ')
            return -EINVAL;
        size_t vlen = llen - k - 1;
        if (vlen >= STAMP_VALUE_MAX)
            return -EINVAL;
        char key[STAMP_KEY_MAX], value[STAMP_VALUE_MAX];
        memcpy(key, line, k);
        key[k] = '\0';
        memcpy(value, line + k + 1, vlen);
        value[vlen] = '\0';
        int rc = stamp_set(s, key, value);
        if (rc < 0)
            return -EINVAL;
    }
    return 0;
}

size_t stamp_format(const struct stamp *s, const char *comment, char *buf, size_t len)
{
    size_t need = 0;
    int n;
    if (comment && *comment) {
        n = snprintf(buf, len, "# %s\n", comment);
        need += n > 0 ? (size_t)n : 0;
    } else if (len > 0) {
        buf[0] = '\0';
    }
    for (unsigned i = 0; i < s->count; i++) {
        n = snprintf(need < len ? buf + need : NULL, need < len ? len - need : 0, "%s %s\n",
                     s->fields[i].key, s->fields[i].value);
        need += n > 0 ? (size_t)n : 0;
    }
    return need;
}

/* Splits path into its directory ("." for a bare name) and base name. */
static int split_path(const char *path, char *dir, size_t dlen, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        if (dlen < 2)
            return -ENAMETOOLONG;
        strcpy(dir, ".");
        *base = path;
        return 0;
    }
    size_t n = (size_t)(slash - path);
    if (n == 0)
        n = 1; /* "/stamp": the root directory */
    if (n >= dlen)
        return -ENAMETOOLONG;
    memcpy(dir, path, n);
    dir[n] = '\0';
    *base = slash + 1;
    return **base ? 0 : -EINVAL;
}

/* The stamp's directory, opened once so that every later call names the file relative to it:
 * a node_modules the app's user replaced by a link is refused (when links are guarded), and
 * cannot be swapped for one between two calls. */
static int open_parent(const char *path, const char **base)
{
    char dir[PATH_MAX];
    int rc = split_path(path, dir, sizeof dir, base);
    if (rc < 0)
        return rc;
    rc = file_open_dir(dir);
    return rc == -ENOTDIR ? -ENOENT : rc;
}

int stamp_read(const char *path, struct stamp *s)
{
    stamp_init(s);
    const char *base;
    int dfd = open_parent(path, &base);
    if (dfd < 0)
        return dfd == -ELOOP ? -EINVAL : dfd; /* a linked directory holds no stamp of ours */
    /* Never through a link: the stamp sits in node_modules, which the app's user owns. */
    char *buf;
    size_t len;
    int rc = file_read(dfd, base, FILE_NOFOLLOW, STAMP_FILE_MAX, &buf, &len);
    close(dfd);
    if (rc == -EFBIG || rc == -EINVAL || rc == -ELOOP || rc == -EISDIR)
        return -EINVAL; /* not a stamp */
    if (rc < 0)
        return rc;
    rc = stamp_parse(buf, len, s);
    free(buf);
    return rc;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The rename is only durable once the directory entry is on disk. Some file systems refuse to
 * fsync a directory (EINVAL): the rename itself has still happened, so that is not a failure. */
static int sync_dir(int dfd)
{
    if (fsync(dfd) < 0 && errno != EINVAL && errno != EROFS)
        return -errno;
    return 0;
}

int stamp_write(const char *path, const struct stamp *s, const char *comment)
{
    const char *base;
    char tmp[NAME_MAX + 1];
    char text[STAMP_FILE_MAX];
    size_t len = stamp_format(s, comment, text, sizeof text);
    if (len >= sizeof text)
        return -E2BIG;
    int dfd = open_parent(path, &base);
    if (dfd < 0)
        return dfd;
    int n = snprintf(tmp, sizeof tmp, ".%s.tmp", base);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        close(dfd);
        return -ENAMETOOLONG;
    }

    /* A fixed temporary name: a devinit killed between open and rename leaves at most this
     * one file, which the next write truncates and reuses. */
    int rc = 0;
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        rc = errno == ENOTDIR ? -ENOENT : -errno;
        close(dfd);
        return rc;
    }
    rc = write_all(fd, text, len);
    /* Without the fsync a crash after the rename can leave an empty stamp under the final name
     * (ext4 and xfs order data and rename only with auto_da_alloc, which is not guaranteed). */
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    /* NFS and some FUSE file systems report a full disk only at close. */
    if (close(fd) < 0 && rc == 0 && errno != EINTR)
        rc = -errno;
    if (rc == 0 && renameat(dfd, tmp, dfd, base) < 0)
        rc = -errno;
    if (rc < 0)
        unlinkat(dfd, tmp, 0);
    else
        rc = sync_dir(dfd);
    close(dfd);
    return rc;
}

int stamp_remove(const char *path)
{
    const char *base;
    int dfd = open_parent(path, &base);
    if (dfd < 0)
        return dfd == -ENOENT ? 0 : dfd;
    int rc = 0;
    if (unlinkat(dfd, base, 0) < 0)
        rc = errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    else
        rc = sync_dir(dfd);
    close(dfd);
    return rc;
}
