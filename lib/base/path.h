/* Paths joined lexically, as Node's path.resolve() does for Prisma: no file system access, so
 * a path can be named before the file exists. Pure. */
#ifndef DEVINIT_PATH_H
#define DEVINIT_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* Joins base and rel (rel absolute: rel alone; base NULL or "": rel alone) and removes "."
 * and "name/.." segments. 0 or -ENAMETOOLONG. */
int path_join(const char *base, const char *rel, char *out, size_t outlen);

/* The directory part of path ("" for a bare name, "/" for a file in the root). */
void path_dirname(const char *path, char *out, size_t outlen);

/* Replaces the absolute path dir (without a trailing slash, as realpath() and path_join()
 * write it) by its parent, in place: the one step of every walk upwards from a folder (as Node
 * resolves packages). false when dir is "/" or not absolute: the walk ends there. */
bool path_up(char *dir);

/* path relative to dir when it lies inside it (for messages), else path itself. Returns a
 * pointer into path. */
const char *path_inside(const char *dir, const char *path);

#endif
