/* The readers of input files: see file.h. */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/exitcodes.h"

static bool guard_links;

void file_guard_links(bool on)
{
    guard_links = on;
}

bool file_links_guarded(void)
{
    return guard_links;
}

int file_open_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (guard_links ? O_NOFOLLOW : 0));
    if (fd >= 0)
        return fd;
    int e = errno;
    struct stat st;
    /* O_DIRECTORY|O_NOFOLLOW says ENOTDIR for a link: tell the refused link apart. */
    if (e == ENOTDIR && guard_links && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        return -ELOOP;
    return -e;
}

int file_open(int dirfd, const char *path, unsigned flags, struct stat *st)
{
    int oflags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    if ((flags & FILE_NOFOLLOW) || guard_links)
        oflags |= O_NOFOLLOW;
    int fd = openat(dirfd, path, oflags);
    if (fd < 0)
        return errno == ENOTDIR ? -ENOENT : -errno;
    int rc = 0;
    if (fstat(fd, st) < 0)
        rc = -errno;
    else if (S_ISDIR(st->st_mode))
        rc = -EISDIR;
    else if (!S_ISREG(st->st_mode))
        rc = -EINVAL;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int file_read_fd(int fd, size_t max, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    struct stat st;
    /* The size is a hint: a file may grow while it is read, and /proc's files say 0. */
    size_t cap = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 4096;
    if (cap > max)
        cap = max;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    size_t n = 0;
    int rc = 0;
    for (;;) {
        if (n == cap) {
            /* One byte more than max would still fit: a file of exactly max bytes is fine. */
            char probe;
            ssize_t r = read(fd, &probe, 1);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                rc = r < 0 ? -errno : 0;
                break;
            }
            if (cap >= max) {
                rc = -EFBIG;
                break;
            }
            size_t ncap = cap * 2 < max ? cap * 2 : max;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
            buf[n++] = probe;
            continue;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = r < 0 ? -errno : 0;
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

int file_read(int dirfd, const char *path, unsigned flags, size_t max, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    struct stat st;
    int fd = file_open(dirfd, path, flags, &st);
    if (fd < 0)
        return fd;
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return -EFBIG;
    }
    return file_read_fd(fd, max, text, len);
}

int file_stream(int fd, uint64_t max, void (*fn)(void *data, const void *buf, size_t len),
                void *data)
{
    /* On the heap: callers run on libuv's thread pool, whose stacks are small. */
    enum { CHUNK = 1 << 16 };
    unsigned char *chunk = malloc(CHUNK);
    if (!chunk) {
        close(fd);
        return -ENOMEM;
    }
    uint64_t total = 0;
    int rc = 0;
    for (;;) {
        ssize_t r = read(fd, chunk, CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = r < 0 ? -errno : 0;
            break;
        }
        total += (uint64_t)r;
        if (total > max) {
            rc = -EFBIG;
            break;
        }
        fn(data, chunk, (size_t)r);
    }
    close(fd);
    free(chunk);
    return rc;
}

int file_exit_code(int rc)
{
    return rc == -EINVAL || rc == -ELOOP || rc == -EFBIG || rc == -EISDIR ? EXIT_CONFIG
                                                                          : EXIT_OSERR;
}

const char *file_strerror(int rc)
{
    switch (rc) {
    case -EINVAL:
        return "not a regular file (a FIFO, device or socket): replace it with one";
    case -ELOOP:
        return "a symbolic link devinit does not follow, or a loop of links: replace it with the "
               "file itself";
    case -EFBIG:
        return "larger than a file of its kind can be";
    default:
        return strerror(-rc);
    }
}
