/* The control socket: `devinit sync`, `devinit status` and `devinit health`, run from
 * `docker compose exec`, talk to the running PID 1 over a Unix socket.
 *
 * Protocol: the client sends one line (the command: "sync", "status", "health"), the server
 * answers with one line of JSON {"exit": N, "message": "...", ...} and closes. Lines are at
 * most CONTROL_LINE_MAX bytes; a client that sends nothing for CONTROL_IDLE_MS, too much, or
 * garbage is answered with an error (or dropped) and never disturbs the app.
 *
 * The socket is mode 0600 and owned by the app's user, in a directory only root or devinit's
 * own user may write; every peer's credentials are checked (SO_PEERCRED): only root, the
 * app's user and devinit's own user may talk to it. At most CONTROL_MAX_CLIENTS connections
 * are open at once and CONTROL_MAX_PER_PEER from one process; more are answered "try again"
 * (75), and at the cap the oldest silent connection of the busiest peer is dropped. */
#ifndef DEVINIT_CONTROL_H
#define DEVINIT_CONTROL_H

#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

#define CONTROL_LINE_MAX 256
#define CONTROL_IDLE_MS  5000
/* Connections open at once: in all, and from one process (a client needs one). */
#define CONTROL_MAX_CLIENTS  32
#define CONTROL_MAX_PER_PEER 4

struct control;
struct control_req;

/* Parses what a client sent so far (len bytes, not NUL-terminated). Returns 1 with the
 * command in cmd when a whole line arrived, 0 when more is needed, -E2BIG when the line is
 * longer than CONTROL_LINE_MAX, -EINVAL when it holds anything but printable ASCII. Pure. */
int control_parse_request(const char *buf, size_t len, char *cmd, size_t cmdlen);

/* A request arrived: answer it (now or later) with exactly one control_reply. */
typedef void (*control_fn)(struct control_req *req, const char *command, void *data);

/* Binds path (creating its directory: 0755 for root, 0700 otherwise; refusing one that
 * another user could change; replacing a stale socket) and listens. allowed_uid is
 * the app's user (root is always allowed). NULL when the socket cannot be had: that is a
 * warning, never fatal (already logged). */
struct control *control_start(uv_loop_t *loop, const char *path, uid_t allowed_uid, control_fn fn,
                              void *data);

/* Sends text (one line of JSON, without the newline) and closes the connection. Frees req. A
 * client that went away meanwhile is fine. */
void control_reply(struct control_req *req, const char *text);

/* The same for the common reply {"exit": code, "message": message}. */
void control_answer(struct control_req *req, int code, const char *message);

/* Stops listening and removes the socket file. Open requests still get their replies. */
void control_stop(struct control *c);

/* What ends a client's wait early: when fd becomes readable, stop() is asked; a non-zero
 * answer is returned by control_call as the exit code, without a reply. */
struct control_cancel {
    int fd;
    int (*stop)(void);
};

/* The client side, blocking: connects to path, sends command, prints the reply's "message"
 * (or, with json, the reply itself) to stdout and returns its "exit" code. No server: a
 * message and -ECONNREFUSED/-ENOENT (the caller decides what to do). cancel may be NULL. */
int control_call(const char *path, const char *command, bool json, int timeout_ms,
                 const struct control_cancel *cancel);

/* `devinit sync|status|health` (command): asks the running instance at path, prints its
 * answer (with json, the reply itself) and returns the answer's exit code. A Ctrl-C ends the
 * wait, not the sync it asked for. No instance (nothing at path, or nobody listening):
 * `health` prints "unhealthy" and returns 1, `status` returns EXIT_UNAVAILABLE, and `sync`
 * returns -1 (the caller then runs the steps itself). The socket's permissions refuse us:
 * EXIT_NOPERM, for all three. No answer in time, or a connection closed without one:
 * EXIT_UNAVAILABLE. */
int control_ask(const char *path, const char *command, bool json);

#endif
