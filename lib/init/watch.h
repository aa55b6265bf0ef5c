/* Live sync's eyes: watches the files whose change makes a step stale (the schema file, or
 * every *.prisma file at any depth of a schema folder, the Prisma config, package.json, the
 * lockfile, optionally the migrations folder) and reports which steps a burst of changes calls
 * for once the burst goes quiet ([watch] debounce; at most 1 s after its first change).
 *
 * Directories are watched, not files: editors save by writing a new file and renaming it over
 * the old one, which would end a watch on the file itself. inotify is not recursive: every
 * folder of a schema folder is watched, and folders made later are added as they appear.
 * Poll mode serves bind mounts that deliver no inotify events: every interval it stats
 * everything on the thread pool and compares each file's size, times and inode with the last
 * look; auto falls back to it where events cannot be had. */
#ifndef DEVINIT_WATCH_H
#define DEVINIT_WATCH_H

#include <stddef.h>
#include <time.h>
#include <uv.h>

#include "config/config.h"

struct watch;

/* steps: STEP_BIT()s the changes call for; what: one of the changed paths, for the log. */
typedef void (*watch_fn)(unsigned steps, const char *what, void *data);

/* Starts watching what cfg describes (the schema is found as the generate step finds it).
 * since (may be NULL): when the files were last read, the start-up's beginning; a schema,
 * config, package.json or lockfile changed at or after it (by mtime or ctime) is reported as a
 * change once the watch runs, so a save made while the start-up ran is not lost. Returns NULL when
 * watching is off or nothing could be watched (already logged). */
struct watch *watch_start(uv_loop_t *loop, const struct config *cfg, const struct timespec *since,
                          watch_fn fn, void *data);

/* Stops and frees (asynchronously: the handles close on the loop). NULL is fine. */
void watch_stop(struct watch *w);

/* For `devinit status`: the mode in use ("events" or "poll") and the watched paths. */
const char *watch_mode_name(const struct watch *w);
size_t watch_count(const struct watch *w);
const char *watch_path(const struct watch *w, size_t i);

#endif
