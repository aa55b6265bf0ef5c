/* Paths joined lexically: see path.h. */
#include "base/path.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int path_join(const char *base, const char *rel, char *out, size_t outlen)
{
    char buf[PATH_MAX * 2];
    int n;
    if (rel[0] == '/' || !base || !*base)
        n = snprintf(buf, sizeof buf, "%s", rel);
    else
        n = snprintf(buf, sizeof buf, "%s/%s", base, rel);
    if (n < 0 || (size_t)n >= sizeof buf)
        return -ENAMETOOLONG;

    bool absolute = buf[0] == '/';
    /* Segments kept so far, as offsets into out. */
    size_t o = 0, kept = 0, dotdots = 0;
    size_t starts[PATH_MAX / 2];
    if (absolute) {
        if (outlen < 2)
            return -ENAMETOOLONG;
        out[o++] = '/';
    }
    char *save = NULL;
    for (char *seg = strtok_r(buf, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            if (kept > dotdots) {
                kept--;
                o = starts[kept];
                /* drop the separator that preceded the removed segment */
                if (o > (absolute ? 1u : 0u))
                    o--;
                continue;
            }
            if (absolute)
                continue; /* "/.." is "/" */
            dotdots++;
        }
        size_t slen = strlen(seg);
        bool sep = o > (absolute ? 1u : 0u);
        if (o + sep + slen + 1 > outlen || kept >= sizeof starts / sizeof starts[0])
            return -ENAMETOOLONG;
        if (sep)
            out[o++] = '/';
        starts[kept++] = o;
        memcpy(out + o, seg, slen);
        o += slen;
    }
    if (o == 0) {
        if (outlen < 2)
            return -ENAMETOOLONG;
        out[o++] = '.';
    }
    out[o] = '\0';
    return 0;
}

void path_dirname(const char *path, char *out, size_t outlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(out, outlen, "%s", "");
        return;
    }
    if (slash == path) {
        snprintf(out, outlen, "/");
        return;
    }
    snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

bool path_up(char *dir)
{
    char *slash = strrchr(dir, '/');
    if (dir[0] != '/' || !dir[1] || !slash)
        return false;
    if (slash == dir)
        slash++; /* a folder in the root: its parent is "/" */
    *slash = '\0';
    return true;
}

const char *path_inside(const char *dir, const char *path)
{
    size_t n = strlen(dir);
    if (n > 0 && strncmp(path, dir, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path;
}
