#include "init/control.h"

#include <errno.h>
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
#include "proc/supervisor.h"

struct control {
    uv_loop_t *loop;
    uv_pipe_t server;
    char path[108];
    uid_t allowed_uid;
    control_fn fn;
    void *data;
};

struct control_req {
    struct control *ctl;
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

static void req_close(struct control_req *r)
{
    if (r->closing)
        return;
    r->closing = true;
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
    r->dispatched = true;
    r->ctl->fn(r, cmd, r->ctl->data);
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
    if (cred.uid != 0 && cred.uid != c->allowed_uid) {
        log_warn("control",
                 "refused a connection from uid %u (pid %d): only root and the "
                 "app's user may use the control socket",
                 (unsigned)cred.uid, (int)cred.pid);
        req_send(r, "{\"exit\":77,\"message\":\"permission denied: only root and the app's user "
                    "may use the control socket\"}");
        return;
    }
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
    if (*dir && mkdir(dir, 0755) < 0 && errno != EEXIST) {
        log_warn("control",
                 "cannot create '%s': %s; `devinit sync/status/health` will not "
                 "reach this instance (set [control] socket to a writable path)",
                 dir, strerror(errno));
        return NULL;
    }
    /* Only a stale socket is ours to remove: a path that names some other file by mistake
     * must not cost that file (devinit usually runs as root). Nothing there (the usual case):
     * nobody to ask and nothing to remove. */
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            log_warn("control",
                     "'%s' exists and is not a socket: no control socket; set "
                     "[control] socket to another path",
                     path);
            return NULL;
        }
        if (socket_alive(path)) {
            log_warn("control", "another devinit answers on '%s': no control socket here", path);
            return NULL;
        }
        unlink(path);
    }

    struct control *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
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
    if (rc == 0 && allowed_uid != 0 && geteuid() == 0 && chown(path, allowed_uid, (gid_t)-1) < 0)
        rc = -errno;
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
    long long code = EXIT_SOFTWARE;
    json_get_int(buf, len, exit_key, &code);
    char *msg = malloc(len + 1);
    if (json)
        printf("%s\n", buf);
    else if (msg && json_get_string(buf, len, message_key, msg, len + 1) == 0)
        printf("%s\n", msg);
    free(msg);
    free(buf);
    return code >= 0 && code <= 255 ? (int)code : EXIT_SOFTWARE;
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
    if (rc >= 0)
        return rc;
    if (rc == -ETIMEDOUT)
        return EXIT_UNAVAILABLE;
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
