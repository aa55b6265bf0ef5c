#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ini.h>

#include "base/log.h"
#include "config/cli.h"
#include "base/redact.h"

enum key_type { T_STRING, T_ENUM, T_DURATION, T_BOOL };

struct key {
    const char *section, *name;
    enum key_type type;
    size_t offset;
    const char *const *choices; /* T_ENUM: index = stored value */
    const char *def;            /* the default, as the file would spell it */
    const char *help;
};

static const char *const levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const colors[] = {"auto", "always", "never", NULL};
static const char *const step_modes[] = {"auto", "always", "off", NULL};
static const char *const migrate_modes[] = {"check", "deploy", "off", NULL};
static const char *const engines[] = {"native", "prisma", NULL};
static const char *const policies[] = {"warn", "fail", NULL};
static const char *const restarts[] = {"no", "on-failure", "always", NULL};
static const char *const watch_modes[] = {"auto", "events", "poll", "off", NULL};

#define F(field) offsetof(struct config, field)

/* Every key devinit knows. config.ini.example documents each with this default, and
 * tests/unit/test_config.c proves the two agree. */
static const struct key keys[] = {
    {"log", "level", T_ENUM, F(log.level), levels, "info", "error, warn, info or debug"},
    {"log", "color", T_ENUM, F(log.color), colors, "auto", "auto (on a TTY), always or never"},
    {"app", "stop_timeout", T_DURATION, F(app.stop_timeout_ms), NULL, "5s",
     "grace between the forwarded SIGTERM/SIGINT and SIGKILL"},
    {"app", "dir", T_STRING, F(app.dir), NULL, "",
     "the app's directory (\"\": the working directory)"},
    {"app", "user", T_STRING, F(app.user), NULL, "", "NAME|UID[:GID] to run steps and the app as"},
    {"app", "restart", T_ENUM, F(app.restart), restarts, "no", "no, on-failure or always"},
    {"app", "restart_delay", T_DURATION, F(app.restart_delay_ms), NULL, "1s",
     "first delay before a restart; doubles each time"},
    {"app", "restart_max_delay", T_DURATION, F(app.restart_max_delay_ms), NULL, "30s",
     "cap of the restart delay"},
    {"watch", "mode", T_ENUM, F(watch.mode), watch_modes, "auto", "auto, events, poll or off"},
    {"watch", "debounce", T_DURATION, F(watch.debounce_ms), NULL, "50ms",
     "quiet time after the last change before a resync (at most 1 s after the first)"},
    {"watch", "interval", T_DURATION, F(watch.interval_ms), NULL, "1s", "poll mode's interval"},
    {"watch", "migrate", T_BOOL, F(watch.migrate), NULL, "no",
     "deploy new migration folders while the app runs"},
    {"control", "socket", T_STRING, F(control.socket), NULL, CONFIG_SOCKET_DEFAULT,
     "the control socket for sync, status and health"},
    {"deps", "mode", T_ENUM, F(deps.mode), step_modes, "auto", "auto, always or off"},
    {"deps", "command", T_STRING, F(deps.command), NULL, "",
     "install command (\"\": from the lockfile)"},
    {"generate", "mode", T_ENUM, F(generate.mode), step_modes, "auto", "auto, always or off"},
    {"prisma", "schema", T_STRING, F(prisma.schema), NULL, "", "schema file or folder"},
    {"prisma", "config", T_STRING, F(prisma.config), NULL, "", "Prisma config file"},
    {"database", "url", T_STRING, F(database.url), NULL, "", "the database URL itself"},
    {"database", "url_env", T_STRING, F(database.url_env), NULL, "DATABASE_URL",
     "the variable holding the URL"},
    {"wait", "timeout", T_DURATION, F(wait.timeout_ms), NULL, "60s", "deadline of the wait step"},
    {"wait", "services", T_STRING, F(wait.services), NULL, "", "extra host:port services"},
    {"migrate", "mode", T_ENUM, F(migrate.mode), migrate_modes, "check", "check, deploy or off"},
    {"migrate", "deploy_with", T_ENUM, F(migrate.deploy_with), engines, "native",
     "native or prisma"},
    {"migrate", "pending", T_ENUM, F(migrate.pending), policies, "warn", "warn or fail"},
    {"migrate", "edited", T_ENUM, F(migrate.edited), policies, "warn", "warn or fail"},
    {"migrate", "missing_locally", T_ENUM, F(migrate.missing_locally), policies, "warn",
     "warn or fail"},
    {"migrate", "failed", T_ENUM, F(migrate.failed), policies, "fail", "warn or fail"},
    {"migrate", "lock_timeout", T_DURATION, F(migrate.lock_timeout_ms), NULL, "10s",
     "how long a deploy waits for Prisma's advisory lock"},
    {"migrate", "timeout", T_DURATION, F(migrate.timeout_ms), NULL, "30s",
     "deadline of each query on _prisma_migrations, lock waits included, before exit 69 (not "
     "of the migration scripts)"},
    {"migrate", "dir", T_STRING, F(migrate.dir), NULL, "", "migrations folder"},
};

#define NKEYS (sizeof keys / sizeof keys[0])

static const struct key *find_key(const char *section, const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* The index of the section's first key: a section's identity in per-section arrays. */
static int section_index(const char *section)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].section, section) == 0)
            return (int)i;
    return -1;
}

static void sections_text(char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NKEYS; i++) {
        if (section_index(keys[i].section) != (int)i)
            continue;
        int n = snprintf(buf + off, len - off, "%s[%s]", off ? ", " : "", keys[i].section);
        if (n < 0 || (size_t)n >= len - off)
            break;
        off += (size_t)n;
    }
}

/* Every message of this module is written through here, so none can quote a raw control
 * character, whichever of its parts came from the file. */
__attribute__((format(printf, 3, 4))) static void say(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    /* Messages quote the file and the environment (names, values, the path): a control
     * character would reach the terminal raw, where an escape sequence can recolour, retitle
     * or rewrite it. */
    if (!errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vescape(err, errlen, fmt, ap);
    va_end(ap);
}

int config_parse_duration(const char *text, uint64_t *ms)
{
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    if (!isdigit((unsigned char)*p))
        return -EINVAL;
    errno = 0;
    char *end;
    uint64_t n = strtoull(p, &end, 10);
    if (errno)
        return -EINVAL;
    uint64_t unit;
    if (*end == '\0' || strcmp(end, "s") == 0)
        unit = 1000;
    else if (strcmp(end, "ms") == 0)
        unit = 1;
    else if (strcmp(end, "m") == 0)
        unit = 60000;
    else
        return -EINVAL;
    if (n > UINT64_MAX / unit / 1000)
        return -EINVAL;
    *ms = n * unit;
    return 0;
}

static void choices_text(const char *const *choices, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; choices[i] && off < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", choices[i]);
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

/* A URL put under the wrong key must not have its password echoed by the error: values are
 * shown redacted, and cut short. */
static const char *shown(const char *value, char *buf, size_t len)
{
    return redact(NULL, 0, value, buf, len);
}

/* [database] url_env names a variable; a URL there would be printed as the name of the
 * variable that is missing, password and all. */
static bool env_name_ok(const char *s)
{
    if (!*s)
        return true; /* the default, DATABASE_URL */
    if (!isalpha((unsigned char)*s) && *s != '_')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

static int apply(struct config *c, const struct key *k, const char *value, const char *where,
                 char *err, size_t errlen)
{
    char *base = (char *)c + k->offset;
    char red[200];
    switch (k->type) {
    case T_STRING: {
        if (k->offset == F(database.url_env) && !env_name_ok(value)) {
            say(err, errlen,
                "%s: 'database.url_env' must be the name of an environment variable "
                "(letters, digits, '_'): to give the URL itself, use [database] url",
                where);
            return -EINVAL;
        }
        char *copy = strdup(value);
        if (!copy)
            return -ENOMEM;
        char **slot = (char **)(void *)base;
        free(*slot);
        *slot = copy;
        return 0;
    }
    case T_ENUM:
        for (int i = 0; k->choices[i]; i++) {
            if (strcmp(k->choices[i], value) == 0) {
                *(int *)(void *)base = i;
                return 0;
            }
        }
        {
            char list[128];
            choices_text(k->choices, list, sizeof list);
            say(err, errlen, "%s: '%s.%s' cannot be '%s': use one of %s", where, k->section,
                k->name, shown(value, red, sizeof red), list);
        }
        return -EINVAL;
    case T_BOOL: {
        static const char *const yes[] = {"yes", "true", "on", "1", NULL};
        static const char *const no[] = {"no", "false", "off", "0", NULL};
        for (int i = 0; yes[i]; i++) {
            if (strcmp(value, yes[i]) == 0) {
                *(bool *)(void *)base = true;
                return 0;
            }
            if (strcmp(value, no[i]) == 0) {
                *(bool *)(void *)base = false;
                return 0;
            }
        }
        say(err, errlen, "%s: '%s.%s' cannot be '%s': use yes or no", where, k->section, k->name,
            shown(value, red, sizeof red));
        return -EINVAL;
    }
    case T_DURATION:
        if (config_parse_duration(value, (uint64_t *)(void *)base) < 0) {
            say(err, errlen,
                "%s: '%s.%s' cannot be '%s': use a duration such as 5, 5s, 500ms or 2m", where,
                k->section, k->name, shown(value, red, sizeof red));
            return -EINVAL;
        }
        return 0;
    }
    return -EINVAL;
}

int config_set(struct config *c, const char *section, const char *key, const char *value,
               const char *where, char *err, size_t errlen)
{
    const struct key *k = find_key(section, key);
    if (!k) {
        if (section_index(section) < 0) {
            char list[256];
            sections_text(list, sizeof list);
            say(err, errlen, "%s: unknown section '[%s]': use one of %s", where, section, list);
        } else {
            say(err, errlen, "%s: unknown key '%s' in [%s]: see config.ini.example", where, key,
                section);
        }
        return -EINVAL;
    }
    return apply(c, k, value, where, err, errlen);
}

void config_init(struct config *c)
{
    memset(c, 0, sizeof *c);
    char err[256];
    for (size_t i = 0; i < NKEYS; i++)
        if (apply(c, &keys[i], keys[i].def, "default", err, sizeof err) < 0)
            abort(); /* a bad built-in default is a programming error */
    c->steps = ~0u;  /* every step, whatever their number (steps/table.h) */
}

void config_free(struct config *c)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].type == T_STRING) {
            char **slot = (char **)(void *)((char *)c + keys[i].offset);
            free(*slot);
            *slot = NULL;
        }
    }
}

struct load_ctx {
    struct config *c;
    FILE *f;
    int line; /* the line the reader handed to inih last */
    const char *path;
    char *err;
    size_t errlen;
    int rc;
    int rc_line; /* the line err names: inih's own syntax error may come earlier */
    bool seen[NKEYS];
    bool after_key;         /* inih's prev_name: an indented line continues that value */
    int header_line[NKEYS]; /* at section_index(): the line of the section's header */
};

__attribute__((format(printf, 3, 4))) static void fail(struct load_ctx *ctx, int line,
                                                       const char *fmt, ...)
{
    if (ctx->rc)
        return;
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    say(ctx->err, ctx->errlen, "%s:%d: %s", ctx->path, line, msg);
    ctx->rc = -EINVAL;
    ctx->rc_line = line;
}

/* inih's own rule: up to a char of chars, or to a ';' comment after white space. */
static const char *ini_stop(const char *s, const char *chars)
{
    bool was_space = false;
    while (*s && !strchr(chars, *s) && !(was_space && *s == ';')) {
        was_space = isspace((unsigned char)*s);
        s++;
    }
    return s;
}

/* inih tells the handler about a [section] only through the keys under it: a bare unknown
 * header, or a section given twice, would pass unseen. So the reader, which sees every line
 * first, finds headers with inih's rules (a BOM on line 1, white space around, ';' comments,
 * an indented line after a key continuing that key's value) and judges them itself. */
static void see_line(struct load_ctx *ctx, const char *line)
{
    const char *s = line;
    if (ctx->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    while (*s && isspace((unsigned char)*s))
        s++;
    if (!*s || *s == ';' || *s == '#')
        return;
    if (ctx->after_key && s > line)
        return; /* a continuation: on_ini sees the key again and refuses it as set twice */
    if (*s != '[') {
        const char *end = ini_stop(s, "=:");
        if (*end == '=' || *end == ':')
            ctx->after_key = end > s;
        return;
    }
    const char *end = ini_stop(s + 1, "]");
    if (*end != ']')
        return; /* inih reports the syntax error */
    ctx->after_key = false;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(end - s - 1), s + 1);
    int i = section_index(name);
    if (i < 0) {
        char list[256];
        sections_text(list, sizeof list);
        fail(ctx, ctx->line, "unknown section '[%s]': use one of %s", name, list);
    } else if (ctx->header_line[i]) {
        /* Like a key set twice: almost always a merge accident, and the second block could
         * silently change what the first one seemed to settle. */
        fail(ctx, ctx->line, "section '[%s]' appears twice, first at line %d: merge the two", name,
             ctx->header_line[i]);
    } else {
        ctx->header_line[i] = ctx->line;
    }
}

/* inih's reader: fgets that counts lines, since Debian builds inih without line numbers in
 * the handler, that refuses a line longer than inih's buffer instead of letting it be split
 * into two lines, that refuses a NUL byte, which fgets would let cut a line short silently
 * ("level = info\0anything" read as "level = info"), and that judges section headers. It
 * stops at the first error: inih's return value still tells an earlier syntax error. */
static char *read_line(char *str, int num, void *stream)
{
    struct load_ctx *ctx = stream;
    if (ctx->rc)
        return NULL;
    int len = 0, ch = EOF;
    bool nul_byte = false;
    while (len < num - 1 && (ch = getc(ctx->f)) != EOF) {
        if (ch == '\0')
            nul_byte = true;
        str[len++] = (char)ch;
        if (ch == '\n')
            break;
    }
    if (len == 0)
        return NULL;
    str[len] = '\0';
    ctx->line++;
    if (nul_byte)
        fail(ctx, ctx->line, "a NUL byte: this is not a text file");
    else if (len == num - 1 && str[len - 1] != '\n' && !feof(ctx->f))
        fail(ctx, ctx->line, "line too long: keep lines of this file short");
    else
        see_line(ctx, str);
    return ctx->rc ? NULL : str;
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *ctx = user;
    int lineno = ctx->line;
    if (ctx->rc)
        return 0;
    if (!name) /* an inih built to report headers: read_line has judged them already */
        return 1;
    if (!*section) {
        fail(ctx, lineno, "key '%s' outside any [section]", name);
        return 0;
    }
    const struct key *k = find_key(section, name);
    if (k) {
        size_t i = (size_t)(k - keys);
        /* A key given twice is almost always a merge accident; say so instead of silently
         * keeping the last one. */
        if (ctx->seen[i]) {
            fail(ctx, lineno, "'%s.%s' is set twice: keep one", section, name);
            return 0;
        }
        ctx->seen[i] = true;
    }
    char where[512];
    snprintf(where, sizeof where, "%s:%d", ctx->path, lineno);
    int rc = config_set(ctx->c, section, name, value, where, ctx->err, ctx->errlen);
    if (rc < 0) {
        ctx->rc = rc;
        ctx->rc_line = lineno;
        return 0;
    }
    return 1;
}

int config_load_stream(struct config *c, FILE *f, const char *path, char *err, size_t errlen)
{
    struct load_ctx ctx = {.c = c, .f = f, .path = path, .err = err, .errlen = errlen};
    int line = ini_parse_stream(read_line, &ctx, on_ini, &ctx);
    /* The first error in the file wins, whoever found it. */
    if (line > 0 && (!ctx.rc || line < ctx.rc_line)) {
        say(err, errlen, "%s:%d: not a 'key = value' line or a [section] header", path, line);
        return -EINVAL;
    }
    if (ctx.rc)
        return ctx.rc;
    if (line < 0) {
        say(err, errlen, "cannot parse configuration '%s'", path);
        return -ENOMEM;
    }
    return 0;
}

int config_load_file(struct config *c, const char *path, bool must_exist, char *err, size_t errlen)
{
    /* O_NONBLOCK: a FIFO with no writer must not block the open, as no signal can stop
     * devinit yet. A directory opens fine and reads as an empty file: refuse it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    int e = 0;
    if (fd < 0)
        e = errno;
    else if (fstat(fd, &st) < 0)
        e = errno;
    else if (S_ISDIR(st.st_mode))
        e = EISDIR;
    else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
        e = errno;
    FILE *f = e ? NULL : fdopen(fd, "r");
    if (!f) {
        if (!e)
            e = errno;
        if (fd >= 0)
            close(fd);
        if (e == ENOENT && !must_exist)
            return -ENOENT;
        say(err, errlen, "cannot read configuration '%s': %s", path, strerror(e));
        return -e;
    }
    int rc = config_load_stream(c, f, path, err, errlen);
    fclose(f);
    if (rc == 0)
        c->source = path;
    return rc;
}

/* The environment name of keys[i], upper-cased: DEVINIT_<SECTION>_<KEY>. */
static void env_name_of(size_t i, char *buf, size_t len)
{
    int n = snprintf(buf, len, "DEVINIT_%s_%s", keys[i].section, keys[i].name);
    for (int j = 0; j < n && (size_t)j < len; j++)
        buf[j] = (char)toupper((unsigned char)buf[j]);
}

/* Levenshtein distance, case-insensitive, of two short names. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 127 || lb > 127)
        return SIZE_MAX;
    size_t row[128];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = toupper((unsigned char)a[i - 1]) != toupper((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The known variable nearest to name (DEVINIT_CONFIG or a key's), for "did you mean". */
static void nearest_env_key(const char *name, char *out, size_t len)
{
    size_t best = edit_distance(name, "DEVINIT_CONFIG");
    snprintf(out, len, "DEVINIT_CONFIG");
    for (size_t i = 0; i < NKEYS; i++) {
        char want[128];
        env_name_of(i, want, sizeof want);
        size_t d = edit_distance(name, want);
        if (d < best) {
            best = d;
            snprintf(out, len, "%s", want);
        }
    }
}

int config_load_env(struct config *c, char *const *envp, char *err, size_t errlen)
{
    static const char prefix[] = "DEVINIT_";
    for (char *const *e = envp; e && *e; e++) {
        if (strncmp(*e, prefix, sizeof prefix - 1) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char name[128];
        size_t nlen = (size_t)(eq - *e);
        if (nlen >= sizeof name) /* cut: no key is that long, so it is refused below */
            nlen = sizeof name - 1;
        memcpy(name, *e, nlen);
        name[nlen] = '\0';
        if (strcmp(name, "DEVINIT_CONFIG") == 0)
            continue;
        /* DEVINIT_<SECTION>_<KEY>: sections have no underscore, keys may. */
        const struct key *match = NULL;
        for (size_t i = 0; i < NKEYS && !match; i++) {
            char want[128];
            env_name_of(i, want, sizeof want);
            if (strcmp(want, name) == 0)
                match = &keys[i];
        }
        if (!match) {
            /* Refused like a typo in the file: `DEVINIT_APPUSER=node` ignored would run the app
             * as root. Every DEVINIT_ name is devinit's (DESIGN.md), so none is someone
             * else's to skip. */
            char near[128];
            nearest_env_key(name, near, sizeof near);
            say(err, errlen,
                "environment variable '%s' is not a configuration key: did you mean %s? "
                "(DEVINIT_<SECTION>_<KEY> or DEVINIT_CONFIG, see config.ini.example)",
                name, near);
            return -EINVAL;
        }
        int rc = apply(c, match, eq + 1, name, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The value of name in envp, or NULL. */
static const char *env_value(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

int config_socket_path(char **socket, uid_t euid, const char *xdg_runtime_dir)
{
    if (euid == 0 || strcmp(*socket, CONFIG_SOCKET_DEFAULT) != 0)
        return 0;
    char path[sizeof((struct sockaddr_un *)0)->sun_path];
    int n = -1;
    if (xdg_runtime_dir && xdg_runtime_dir[0] == '/')
        n = snprintf(path, sizeof path, "%s/devinit.sock", xdg_runtime_dir);
    /* A runtime directory too long for a socket's address: the /tmp one always fits. */
    if (n < 0 || (size_t)n >= sizeof path)
        snprintf(path, sizeof path, "/tmp/devinit-%u/devinit.sock", (unsigned)euid);
    char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    free(*socket);
    *socket = copy;
    return 0;
}

int config_resolve(struct config *c, const struct cli *cli, unsigned steps, char *const *envp,
                   char *err, size_t errlen)
{
    config_init(c);
    const char *path = cli->config_path;
    bool must_exist = true;
    if (!path)
        path = env_value(envp, "DEVINIT_CONFIG");
    if (!path || !*path) {
        path = "devinit.ini";
        must_exist = false;
    }
    int rc = config_load_file(c, path, must_exist, err, errlen);
    /* Only the default ./devinit.ini may be absent; a file that was named must exist. */
    if (rc < 0 && !(rc == -ENOENT && !must_exist))
        return rc;
    if ((rc = config_load_env(c, envp, err, errlen)) < 0)
        return rc;
    if (config_socket_path(&c->control.socket, geteuid(), env_value(envp, "XDG_RUNTIME_DIR")) < 0) {
        say(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (cli->stop_timeout_ms >= 0)
        c->app.stop_timeout_ms = (uint64_t)cli->stop_timeout_ms;
    c->steps = steps;
    int level = (int)c->log.level + cli->verbosity;
    c->log.level = (enum log_level)(level < LOG_ERROR   ? LOG_ERROR
                                    : level > LOG_DEBUG ? LOG_DEBUG
                                                        : level);
    return 0;
}

size_t config_key_count(void)
{
    return NKEYS;
}

const struct config_key_info *config_key_at(size_t i)
{
    static struct config_key_info info;
    if (i >= NKEYS)
        return NULL;
    info.section = keys[i].section;
    info.key = keys[i].name;
    info.def = keys[i].def;
    info.help = keys[i].help;
    return &info;
}
