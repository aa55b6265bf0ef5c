/* Reading the files devinit takes as input: package.json, lockfiles, schemas, configs, .env
 * files, stamps, migrations. Every reader here opens without blocking (a FIFO planted in
 * place of a file must not stall PID 1), takes regular files only (a device such as
 * /dev/zero, a FIFO or a socket is refused, never read), and reads a bounded number of bytes.
 * The one whole-file read loop of the project. */
#ifndef DEVINIT_FILE_H
#define DEVINIT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Refuse a symbolic link as the last component (-ELOOP): for files in the app's tree, where
 * the app's unprivileged user could have planted a link for root to follow. */
#define FILE_NOFOLLOW 1u

/* While root works for an unprivileged app user ([app] user), every file in the app's tree
 * may be a link that user planted to make root read or write what it may not: then every
 * file_open() refuses a link as the last component, as FILE_NOFOLLOW does, and
 * file_open_dir() refuses a linked directory. Set once, before any thread reads a file. */
void file_guard_links(bool on);
bool file_links_guarded(void);

/* Opens the directory path for *at() calls, close-on-exec: refusing a symbolic link
 * (-ELOOP) when links are guarded. The fd, -ENOENT, -ENOTDIR, -ELOOP or another -errno. */
int file_open_dir(const char *path);

/* Opens path (relative to dirfd; AT_FDCWD: the working directory) for reading, close-on-exec,
 * when it is a regular file, and fills *st. Returns the fd (the caller closes it), or -ENOENT
 * (absent, or a component is not a directory), -EISDIR, -EINVAL (not a regular file), -ELOOP
 * (a link, with FILE_NOFOLLOW), or another -errno. */
int file_open(int dirfd, const char *path, unsigned flags, struct stat *st);

/* Reads fd to its end, at most max bytes, into a malloc'ed NUL-terminated buffer (the caller
 * frees *text), and closes fd. 0, -EFBIG beyond max, -ENOMEM or -errno. */
int file_read_fd(int fd, size_t max, char **text, size_t *len);

/* file_open() and file_read_fd(): a whole regular file. */
int file_read(int dirfd, const char *path, unsigned flags, size_t max, char **text, size_t *len);

/* Reads fd to its end in pieces, handing each to fn, and closes fd: for files too large to
 * keep (a lockfile, a migration). 0, -EFBIG after max bytes, or -errno. */
int file_stream(int fd, uint64_t max, void (*fn)(void *data, const void *buf, size_t len),
                void *data);

/* The exit code for a file that could not be read: EXIT_CONFIG when the file itself is wrong
 * (not a regular file, a refused link, too large), EXIT_OSERR for the system's errors. */
int file_exit_code(int rc);

/* Words for a negative code from the functions above, for messages: "not a regular file" for
 * -EINVAL, the refused link for -ELOOP, "too large" for -EFBIG, else strerror. */
const char *file_strerror(int rc);

#endif
