#include "init/control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/exitcodes.h"
#include "base/json.h"
#include "base/jsonw.h"
#include "base/log.h"
#include "base/path.h"
#include "config/config.h"
#include "proc/supervisor.h"

struct control {
    uv_loop_t *loop;
    uv_pipe_t server;
    char path[108];
    uid_t allowed_uid;
    control_fn fn;
    void *data;
    /* The open connections, oldest first: each costs a descriptor, and devinit needs its
     * descriptors to restart the app. */
    struct control_req *clients[CONTROL_MAX_CLIENTS];
    int nclients;
};

struct control_req {
    struct control *ctl; /* NULL once the server is gone */
    pid_t peer;
    uv_pipe_t pipe;
    uv_timer_t idle;
    char line[CONTROL_LINE_MAX];
    size_t len;
    bool dispatched; /* handed to fn: control_reply will come */
    bool replied;
    bool closing;
    int open; /* pipe + timer not yet closed */
    char *reply;
    uv_write_t wr;
};

/* r is freed when both handles are closed and nobody owes it a reply any more. */
static void req_free_if_done(struct control_req *r)
{
    if (r->open == 0 && (!r->dispatched || r->replied)) {
        free(r->reply);
        free(r);
    }
}

static void req_closed(uv_handle_t *h)
{
    struct control_req *r = h->data;
    r->open--;
    req_free_if_done(r);
}

static void clients_remove(struct control *c, struct control_req *r)
{
    for (int i = 0; i < c->nclients; i++) {
        if (c->clients[i] == r) {
            memmove(&c->clients[i], &c->clients[i + 1],
                    (size_t)(c->nclients - i - 1) * sizeof c->clients[0]);
            c->nclients--;
            return;
        }
    }
}

static void req_close(struct control_req *r)
{
    if (r->closing)
        return;
    r->closing = true;
    if (r->ctl)
        clients_remove(r->ctl, r);
    uv_close((uv_handle_t *)&r->idle, req_closed);
    uv_close((uv_handle_t *)&r->pipe, req_closed);
}

static void on_written(uv_write_t *w, int status)
{
    req_close(w->data);
}

/* Writes text + "\n" and closes once written. */
static void req_send(struct control_req *r, const char *text)
{
    if (r->closing)
        return;
    size_t n = strlen(text);
    r->reply = malloc(n + 2);
    if (!r->reply) {
        req_close(r);
        return;
    }
    memcpy(r->reply, text, n);
    r->reply[n] = '\n';
    r->reply[n + 1] = '\0';
    uv_buf_t buf = uv_buf_init(r->reply, (unsigned)(n + 1));
    r->wr.data = r;
    if (uv_write(&r->wr, (uv_stream_t *)&r->pipe, &buf, 1, on_written) < 0)
        req_close(r);
}

void control_answer(struct control_req *r, int code, const char *message)
{
    struct jsonw j;
    jsonw_init(&j);
    jsonw_object_begin(&j);
    jsonw_key(&j, "exit");
    jsonw_int(&j, code);
    jsonw_key(&j, "message");
    jsonw_string(&j, message);
    jsonw_object_end(&j);
    if (j.failed || !j.buf) {
        char oom[64];
        snprintf(oom, sizeof oom, "{\"exit\":%d,\"message\":\"out of memory\"}", EXIT_OSERR);
        control_reply(r, oom);
    } else {
        control_reply(r, j.buf);
    }
    jsonw_free(&j);
}

void control_reply(struct control_req *r, const char *text)
{
    r->replied = true;
    if (r->closing) {
        /* The client hung up before the answer: only the memory is left to free. */
        req_free_if_done(r);
        return;
    }
    req_send(r, text);
}

static void on_idle(uv_timer_t *t)
{
    struct control_req *r = t->data;
    if (!r->dispatched)
        req_close(r);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct control_req *r = h->data;
    buf->base = r->line + r->len;
    buf->len = sizeof r->line - r->len - 1;
}

int control_parse_request(const char *buf, size_t len, char *cmd, size_t cmdlen)
{
    const char *nl = memchr(buf, '\n', len);
    size_t n = nl ? (size_t)(nl - buf) : len;
    if (n >= CONTROL_LINE_MAX - 1 || n >= cmdlen)
        return -E2BIG;
    if (!nl)
        return 0;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    for (size_t i = 0; i < n; i++)
        if (buf[i] < 0x20 || buf[i] > 0x7e)
            return -EINVAL;
    memcpy(cmd, buf, n);
    cmd[n] = '\0';
    return 1;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct control_req *r = s->data;
    if (n < 0) {
        /* The client went away (before sending a whole line: nothing is dispatched). */
        uv_read_stop(s);
        req_close(r);
        return;
    }
    r->len += (size_t)n;
    char cmd[CONTROL_LINE_MAX];
    int rc = control_parse_request(r->line, r->len, cmd, sizeof cmd);
    if (rc == 0)
        return;
    uv_read_stop(s);
    uv_timer_stop(&r->idle);
    if (rc < 0) {
        req_send(r, rc == -E2BIG ? "{\"exit\":64,\"message\":\"request too long\"}"
                                 : "{\"exit\":64,\"message\":\"request is not text\"}");
        return;
    }
    if (!r->ctl) {
        req_close(r);
        return;
    }
    r->dispatched = true;
    r->ctl->fn(r, cmd, r->ctl->data);
}

static int peer_connections(const struct control *c, pid_t pid)
{
    int n = 0;
    for (int i = 0; i < c->nclients; i++)
        n += c->clients[i]->peer == pid;
    return n;
}

/* Room for one more connection: at the cap, the oldest connection that has not asked
 * anything yet, of the peer that holds the most, is dropped (a flood of idle connections
 * then costs the flooder, not a client that asks). False when every connection is a
 * request being answered. */
static bool make_room(struct control *c)
{
    if (c->nclients < CONTROL_MAX_CLIENTS)
        return true;
    struct control_req *victim = NULL;
    int most = 0;
    for (int i = 0; i < c->nclients; i++) {
        struct control_req *r = c->clients[i];
        int n = r->dispatched ? 0 : peer_connections(c, r->peer);
        if (n > most) {
            most = n;
            victim = r;
        }
    }
    if (!victim)
        return false;
    req_close(victim);
    return true;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct control *c = server->data;
    if (status < 0)
        return;
    struct control_req *r = calloc(1, sizeof *r);
    if (!r)
        return;
    r->ctl = c;
    uv_pipe_init(c->loop, &r->pipe, 0);
    uv_timer_init(c->loop, &r->idle);
    r->pipe.data = r;
    r->idle.data = r;
    r->open = 2;
    if (uv_accept(server, (uv_stream_t *)&r->pipe) < 0) {
        req_close(r);
        return;
    }
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (uv_fileno((uv_handle_t *)&r->pipe, &fd) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        req_close(r);
        return;
    }
    r->peer = cred.pid;
    /* devinit's own user may always ask: as a `USER node` image's PID 1, that is the user a
     * `docker exec` runs as. */
    if (cred.uid != 0 && cred.uid != c->allowed_uid && cred.uid != geteuid()) {
        log_warn("control",
                 "refused a connection from uid %u (pid %d): only root and the "
                 "app's user may use the control socket",
                 (unsigned)cred.uid, (int)cred.pid);
        req_send(r, "{\"exit\":77,\"message\":\"permission denied: only root and the app's user "
                    "may use the control socket\"}");
        return;
    }
    /* One client needs one connection at a time: more from the same process are refused at
     * once, so that nobody can hold devinit's descriptors. */
    if (peer_connections(c, cred.pid) >= CONTROL_MAX_PER_PEER || !make_room(c)) {
        req_send(r, "{\"exit\":75,\"message\":\"too many connections to the control socket: "
                    "try again\"}");
        return;
    }
    c->clients[c->nclients++] = r;
    uv_timer_start(&r->idle, on_idle, CONTROL_IDLE_MS, 0);
    uv_read_start((uv_stream_t *)&r->pipe, on_alloc, on_read);
}

/* Another devinit answering on the socket? Then it is not stale and must not be removed. */
static bool socket_alive(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    bool alive = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return alive;
}

static void server_closed(uv_handle_t *h)
{
    free(h->data);
}

/* Opens the directory the socket goes in (making it: mode 0755 for root, whose app user must
 * reach the socket, 0700 otherwise). Nobody but root and devinit's own user may be able to
 * change its entries: whoever can could swap the socket for a link between bind() and the
 * chown() that follows, and root would hand the link's target to the app's user. A sticky
 * directory (/tmp) is fine: there only a file's owner may rename or remove it. The checks are
 * made on the opened directory, which then anchors every later step. Returns the fd or -1
 * (logged). */
static int socket_dir_open(const char *dir)
{
    uid_t me = geteuid();
    if (mkdir(dir, me == 0 ? 0755 : 0700) < 0 && errno != EEXIST) {
        log_warn("control",
                 "cannot create '%s': %s; `devinit sync/status/health` will not "
                 "reach this instance (set [control] socket to a writable path)",
                 dir, strerror(errno));
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        log_warn("control", "cannot open the directory '%s': %s; no control socket", dir,
                 errno == ELOOP ? "it is a symbolic link" : strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    const char *why = NULL;
    if (st.st_uid != 0 && st.st_uid != me)
        why = "belongs to another user";
    else if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
        why = "is writable by other users and not sticky";
    if (why) {
        log_warn("control",
                 "the socket's directory '%s' %s (uid %u, mode %04o): a user who can "
                 "replace the socket with a link could make devinit change that link's target; "
                 "no control socket (use a directory only root or uid %u may write, such as "
                 "the default)",
                 dir, why, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)me);
        close(fd);
        return -1;
    }
    return fd;
}

struct control *control_start(uv_loop_t *loop, const char *path, uid_t allowed_uid, control_fn fn,
                              void *data)
{
    if (!path || !*path)
        return NULL;
    if (strlen(path) >= sizeof((struct sockaddr_un *)0)->sun_path) {
        log_warn("control", "socket path '%s' is too long: no control socket", path);
        return NULL;
    }
    char dir[4096];
    path_dirname(path, dir, sizeof dir);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int dfd = socket_dir_open(*dir ? dir : ".");
    if (dfd < 0)
        return NULL;
    /* Only a stale socket is ours to remove: a path that names some other file by mistake
     * must not cost that file (devinit usually runs as root). Nothing there (the usual case):
     * nobody to ask and nothing to remove. */
    struct stat st;
    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            log_warn("control",
                     "'%s' exists and is not a socket: no control socket; set "
                     "[control] socket to another path",
                     path);
            close(dfd);
            return NULL;
        }
        if (socket_alive(path)) {
            log_warn("control", "another devinit answers on '%s': no control socket here", path);
            close(dfd);
            return NULL;
        }
        unlinkat(dfd, base, 0);
    }

    struct control *c = calloc(1, sizeof *c);
    if (!c) {
        close(dfd);
        return NULL;
    }
    c->loop = loop;
    c->fn = fn;
    c->data = data;
    c->allowed_uid = allowed_uid;
    snprintf(c->path, sizeof c->path, "%s", path);
    uv_pipe_init(loop, &c->server, 0);
    c->server.data = c;
    /* The socket is created with the umask's mode: make it private from its first moment. */
    mode_t old = umask(0177);
    int rc = uv_pipe_bind(&c->server, path);
    umask(old);
    /* Never through a link: only the entry in the directory checked above is changed. */
    if (rc == 0 && allowed_uid != 0 && geteuid() == 0 &&
        fchownat(dfd, base, allowed_uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW) < 0)
        rc = -errno;
    close(dfd);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&c->server, 16, on_connection);
    if (rc < 0) {
        log_warn("control",
                 "cannot listen on '%s': %s; `devinit sync/status/health` will not "
                 "reach this instance",
                 path, uv_strerror(rc));
        uv_close((uv_handle_t *)&c->server, server_closed);
        return NULL;
    }
    log_debug("control", "listening on '%s'", path);
    return c;
}

void control_stop(struct control *c)
{
    if (!c)
        return;
    unlink(c->path);
    /* Requests being answered still get their answers; the others are closed. */
    for (int i = c->nclients - 1; i >= 0; i--) {
        struct control_req *r = c->clients[i];
        r->ctl = NULL;
        if (!r->dispatched)
            req_close(r);
    }
    c->nclients = 0;
    uv_close((uv_handle_t *)&c->server, server_closed);
}

/* ---- client ---------------------------------------------------------------------------- */

int control_call(const char *path, const char *command, bool json, int timeout_ms,
                 const struct control_cancel *cancel)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    char req[CONTROL_LINE_MAX];
    int n = snprintf(req, sizeof req, "%s\n", command);
    /* A refusal is sent before the request is read: if the write fails (EPIPE), the
     * answer may still be waiting to be read. */
    if (write(fd, req, (size_t)n) != n && errno != EPIPE) {
        int err = errno;
        close(fd);
        return -err;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    int64_t deadline = (int64_t)clock_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - (int64_t)clock_ms();
        struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN},
                                {.fd = cancel ? cancel->fd : -1, .events = POLLIN}};
        int ready = left > 0 ? poll(pfd, 2, (int)left) : 0;
        if (ready == 0) {
            fprintf(stderr, "devinit: error: no answer from '%s' within %d ms\n", path, timeout_ms);
            free(buf);
            close(fd);
            return -ETIMEDOUT;
        }
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            break;
        int stop = (pfd[1].revents & POLLIN) ? cancel->stop() : 0;
        if (stop) {
            free(buf);
            close(fd);
            return stop;
        }
        if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (len + 4096 > cap) {
            char *p = realloc(buf, cap * 2);
            if (!p)
                break;
            buf = p;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    while (len && (buf[len - 1] == '\n'))
        buf[--len] = '\0';
    static const char *const exit_key[] = {"exit", NULL}, *const message_key[] = {"message", NULL};
    long long code = -1;
    if (json_get_int(buf, len, exit_key, &code) < 0 || code < 0 || code > 255) {
        /* The instance went away mid-answer, or something else listens there. */
        fprintf(stderr,
                "devinit: error: no answer from '%s': the connection closed without one%s\n", path,
                len ? " (the reply is not devinit's)" : "");
        free(buf);
        return -EPROTO;
    }
    char *msg = malloc(len + 1);
    /* The message quotes the app's command, step reasons and file names: escaped like the
     * log, so that no control byte in them reaches the terminal. The JSON is escaped already. */
    char *shown = malloc(4 * len + 1);
    if (json)
        printf("%s\n", buf);
    else if (msg && shown && json_get_string(buf, len, message_key, msg, len + 1) == 0) {
        log_escape_text(shown, 4 * len + 1, msg, strlen(msg), true);
        printf("%s\n", shown);
    }
    free(shown);
    free(msg);
    free(buf);
    return (int)code;
}

/* The socket is there and is not ours to use: say whose it is. */
static int refused(const char *path, const char *command, int err)
{
    struct stat st;
    char owner[64] = "";
    if (stat(path, &st) == 0)
        snprintf(owner, sizeof owner, " (the socket belongs to uid %u)", (unsigned)st.st_uid);
    log_error(NULL,
              "permission denied on the control socket '%s'%s: %s; run `devinit %s` as the "
              "user devinit runs as, its app's user, or root",
              path, owner, strerror(err), command);
    return EXIT_NOPERM;
}

int control_ask(const char *path, const char *command, bool json)
{
    /* How long each waits for its answer: a sync may run a whole install. */
    static const struct {
        const char *command;
        int timeout_ms;
    } waits[] = {{"sync", 30 * 60 * 1000}, {"status", 20000}, {"health", 10000}};
    int timeout_ms = 10000;
    for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++)
        if (strcmp(waits[i].command, command) == 0)
            timeout_ms = waits[i].timeout_ms;
    /* The signals were blocked at start-up: read them from the supervisor's signalfd, which
     * works as PID 1 too. */
    const struct control_cancel cancel = {supervisor_signal_fd(), supervisor_client_stop};
    int rc = *path ? control_call(path, command, json, timeout_ms, &cancel) : -ENOENT;
    /* The default socket depends on who runs devinit, and a client may be someone else:
     * `docker exec -u root` into a `USER node` image, or `docker exec --user node` into an
     * image whose devinit is root. When nothing is at this user's default, ask where the
     * container's PID 1 keeps its own (its $XDG_RUNTIME_DIR is not known here: the /tmp form). */
    char *own = strdup(CONFIG_SOCKET_DEFAULT), *pid1_default = strdup(CONFIG_SOCKET_DEFAULT);
    char pid1_path[108] = "";
    struct stat pid1;
    if (own && pid1_default &&
        config_socket_path(&own, geteuid(), getenv("XDG_RUNTIME_DIR")) == 0 &&
        stat("/proc/1", &pid1) == 0 && config_socket_path(&pid1_default, pid1.st_uid, NULL) == 0)
        snprintf(pid1_path, sizeof pid1_path, "%s", pid1_default);
    if ((rc == -ENOENT || rc == -ECONNREFUSED) && pid1_path[0] &&
        (strcmp(path, CONFIG_SOCKET_DEFAULT) == 0 || strcmp(path, own) == 0) &&
        strcmp(path, pid1_path) != 0) {
        path = pid1_path;
        rc = control_call(path, command, json, timeout_ms, &cancel);
    }
    free(own);
    free(pid1_default);
    if (rc >= 0)
        return rc;
    if (rc == -ETIMEDOUT || rc == -EPROTO)
        return EXIT_UNAVAILABLE;
    /* A devinit may well be running: its socket is only out of reach. Never "no devinit",
     * and never a sync of our own beside it. */
    if (rc == -EACCES || rc == -EPERM)
        return refused(path, command, -rc);
    /* Only "nothing there" and "nobody listens" mean that no devinit runs. */
    bool none = rc == -ENOENT || rc == -ECONNREFUSED || rc == -ENOTDIR;
    if (!none) {
        log_error(NULL, "cannot reach the control socket '%s': %s", path, strerror(-rc));
        return EXIT_UNAVAILABLE;
    }
    if (strcmp(command, "sync") == 0) {
        log_info(NULL, "no running devinit answers at '%s' (%s): running the steps here", path,
                 strerror(-rc));
        return -1;
    }
    if (strcmp(command, "health") == 0) {
        printf("unhealthy: no running devinit answers at '%s'\n", path);
        return 1;
    }
    log_error(NULL,
              "no running devinit answers at '%s': %s; is this the container it runs in "
              "([control] socket)?",
              path, strerror(-rc));
    return EXIT_UNAVAILABLE;
}
