/* The Prisma config file: see config.h. A JavaScript tokenizer that knows comments, strings
 * and template literals, a walk that follows the keys of nested object literals, and an
 * evaluator for the few expressions a path is written with. */
#include "prisma/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/file.h"
#include "base/path.h"

/* A config file larger than this is not a config file. */
#define CONFIG_MAX (1 << 20)

/* ---- tokens ------------------------------------------------------------------------------- */

enum tok_kind { T_END, T_IDENT, T_STRING, T_TEMPLATE, T_PUNCT, T_OTHER };

struct tok {
    enum tok_kind kind;
    const char *p; /* strings and templates: with their quotes */
    size_t len;
};

struct lexer {
    const char *p, *end;
};

static bool ident_char(char c)
{
    return c == '_' || c == '$' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z') ||
           (unsigned char)c >= 0x80;
}

static void skip_blank(struct lexer *lx)
{
    while (lx->p < lx->end) {
        char c = *lx->p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            lx->p++;
        } else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '/') {
            while (lx->p < lx->end && *lx->p != '\n')
                lx->p++;
        } else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
            const char *close = memmem(lx->p + 2, (size_t)(lx->end - lx->p - 2), "*/", 2);
            lx->p = close ? close + 2 : lx->end;
        } else {
            return;
        }
    }
}

/* Past the quoted literal starting at p (quote q); a template's ${...} may hold anything,
 * other literals included. */
static const char *skip_quoted(const char *p, const char *end, char q)
{
    int depth = 0;
    for (p++; p < end; p++) {
        if (*p == '\\') {
            p++;
            continue;
        }
        if (q == '`' && depth == 0 && *p == '$' && p + 1 < end && p[1] == '{') {
            depth = 1;
            p++;
            continue;
        }
        if (depth > 0) {
            if (*p == '{')
                depth++;
            else if (*p == '}')
                depth--;
            else if (*p == '"' || *p == '\'' || *p == '`')
                p = skip_quoted(p, end, *p) - 1;
            continue;
        }
        if (*p == q)
            return p + 1;
        if (*p == '\n' && q != '`')
            return p + 1; /* an unterminated literal ends with its line */
    }
    return end;
}

static struct tok next(struct lexer *lx)
{
    skip_blank(lx);
    struct tok t = {T_END, lx->p, 0};
    if (lx->p >= lx->end)
        return t;
    char c = *lx->p;
    const char *s = lx->p;
    if (c == '"' || c == '\'' || c == '`') {
        lx->p = skip_quoted(s, lx->end, c);
        t.kind = c == '`' ? T_TEMPLATE : T_STRING;
    } else if (ident_char(c)) {
        while (lx->p < lx->end && ident_char(*lx->p))
            lx->p++;
        t.kind = (c >= '0' && c <= '9') ? T_OTHER : T_IDENT;
    } else {
        lx->p++;
        t.kind = T_PUNCT;
    }
    t.len = (size_t)(lx->p - s);
    return t;
}

static struct tok peek(const struct lexer *lx)
{
    struct lexer copy = *lx;
    return next(&copy);
}

static bool is_punct(struct tok t, char c)
{
    return t.kind == T_PUNCT && *t.p == c;
}

static bool is_ident(struct tok t, const char *word)
{
    return t.kind == T_IDENT && t.len == strlen(word) && memcmp(t.p, word, t.len) == 0;
}

/* ---- values ------------------------------------------------------------------------------- */

/* The text of a string literal or a template without substitutions, escapes decoded, into
 * out. -EINVAL for a substitution, a NUL (no path holds one) or an unterminated literal;
 * -ENAMETOOLONG when it does not fit. */
static int literal(struct tok t, char *out, size_t outlen)
{
    const char *p = t.p + 1, *end = t.p + t.len;
    char q = *t.p;
    if (t.len < 2 || end[-1] != q)
        return -EINVAL;
    end--;
    size_t o = 0;
    while (p < end) {
        char c = *p++;
        if (q == '`' && c == '$' && p < end && *p == '{')
            return -EINVAL;
        if (c == '\\' && p < end) {
            c = *p++;
            switch (c) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case '0':
                c = '\0';
                break;
            case '\n':
                continue; /* a line continuation */
            default:
                break; /* \\ \" \' \` and the rest stand for themselves */
            }
        }
        if (c == '\0')
            return -EINVAL;
        if (o + 1 >= outlen)
            return -ENAMETOOLONG;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static int eval_value(struct lexer *lx, char *out, size_t outlen);

/* Consumes the tokens of a dotted name (`import.meta.url`) when they come next; false, and
 * nothing consumed, otherwise. */
static bool accept_dotted(struct lexer *lx, const char *const *parts)
{
    struct lexer save = *lx;
    for (size_t i = 0; parts[i]; i++) {
        if ((i && !is_punct(next(lx), '.')) || !is_ident(next(lx), parts[i])) {
            *lx = save;
            return false;
        }
    }
    return true;
}

/* The config file's directory, written as __dirname or import.meta.dirname: ".", since Prisma
 * resolves the config's relative paths against that directory. */
static bool accept_config_dir(struct lexer *lx)
{
    static const char *const dirname[] = {"__dirname", NULL};
    static const char *const meta_dirname[] = {"import", "meta", "dirname", NULL};
    return accept_dotted(lx, dirname) || accept_dotted(lx, meta_dirname);
}

/* path.join(a, b, ...) or join(...), after the name: the parts joined with '/'. For
 * path.resolve() (resolve true) the first part must be the config file's directory: resolved
 * from anything else the path would depend on the working directory. */
static int eval_join(struct lexer *lx, bool resolve, char *out, size_t outlen)
{
    if (!is_punct(next(lx), '('))
        return -EINVAL;
    if (resolve) {
        struct lexer look = *lx;
        if (!accept_config_dir(&look))
            return -EINVAL;
    }
    size_t o = 0;
    out[0] = '\0';
    for (;;) {
        if (is_punct(peek(lx), ')')) {
            next(lx);
            break;
        }
        char part[PATH_MAX];
        int rc = eval_value(lx, part, sizeof part);
        if (rc < 0)
            return rc;
        int w = snprintf(out + o, outlen - o, "%s%s", o ? "/" : "", part);
        if (w < 0 || (size_t)w >= outlen - o)
            return -ENAMETOOLONG;
        o += (size_t)w;
        struct tok sep = next(lx);
        if (is_punct(sep, ')'))
            break;
        if (!is_punct(sep, ','))
            return -EINVAL;
    }
    return o ? 0 : -EINVAL;
}

/* fileURLToPath(new URL("./prisma", import.meta.url)), after `fileURLToPath`: the literal,
 * which is relative to the config file as a path relative to it is. A percent-escape would
 * need decoding: not a form devinit guesses at. */
static int eval_file_url(struct lexer *lx, char *out, size_t outlen)
{
    static const char *const meta_url[] = {"import", "meta", "url", NULL};
    if (!is_punct(next(lx), '(') || !is_ident(next(lx), "new") || !is_ident(next(lx), "URL") ||
        !is_punct(next(lx), '('))
        return -EINVAL;
    struct tok t = next(lx);
    if (t.kind != T_STRING && t.kind != T_TEMPLATE)
        return -EINVAL;
    int rc = literal(t, out, outlen);
    if (rc < 0)
        return rc;
    if (!is_punct(next(lx), ',') || !accept_dotted(lx, meta_url) || !is_punct(next(lx), ')') ||
        !is_punct(next(lx), ')'))
        return -EINVAL;
    if (strchr(out, '%') || strchr(out, '?') || strchr(out, '#'))
        return -EINVAL;
    if (strncmp(out, "file://", 7) == 0)
        memmove(out, out + 7, strlen(out + 7) + 1);
    return 0;
}

/* One value expression, consumed from lx. */
static int eval_value(struct lexer *lx, char *out, size_t outlen)
{
    if (accept_config_dir(lx)) {
        snprintf(out, outlen, ".");
        return 0;
    }
    struct tok t = next(lx);
    if (t.kind == T_STRING || t.kind == T_TEMPLATE)
        return literal(t, out, outlen);
    if (is_ident(t, "path") || is_ident(t, "url")) {
        if (!is_punct(next(lx), '.'))
            return -EINVAL;
        t = next(lx);
    }
    if (is_ident(t, "join") || is_ident(t, "resolve"))
        return eval_join(lx, is_ident(t, "resolve"), out, outlen);
    if (is_ident(t, "fileURLToPath"))
        return eval_file_url(lx, out, outlen);
    return -EINVAL; /* a bare new URL(...) among them: Prisma itself refuses a URL object */
}

/* A whole property value: an expression followed by the end of the property. */
static int eval_property(struct lexer *lx, char *out, size_t outlen)
{
    int rc = eval_value(lx, out, outlen);
    if (rc < 0)
        return rc;
    if (!out[0])
        return -EINVAL; /* "" names no file: Prisma would fail on it too */
    struct tok end = peek(lx);
    /* `"a" + b`, a method call on the literal...: not a value devinit can know. */
    return is_punct(end, ',') || is_punct(end, '}') ? 0 : -EINVAL;
}

/* The variable of env("X"), process.env.X or process.env["X"], consumed from lx; false, and
 * nothing consumed, for anything else. */
static bool accept_env_read(struct lexer *lx, char *var, size_t varlen)
{
    static const char *const process_env[] = {"process", "env", NULL};
    struct lexer save = *lx;
    struct tok t;
    if (is_ident(peek(lx), "env")) {
        next(lx);
        if (is_punct(next(lx), '(') && (t = next(lx)).kind == T_STRING &&
            literal(t, var, varlen) == 0 && is_punct(next(lx), ')'))
            return true;
    } else if (accept_dotted(lx, process_env)) {
        t = next(lx);
        if (is_punct(t, '.') && (t = next(lx)).kind == T_IDENT && t.len < varlen) {
            memcpy(var, t.p, t.len);
            var[t.len] = '\0';
            return true;
        }
        if (is_punct(t, '[') && (t = next(lx)).kind == T_STRING && literal(t, var, varlen) == 0 &&
            is_punct(next(lx), ']'))
            return true;
    }
    *lx = save;
    return false;
}

/* datasource.url: a variable read (with an optional `?? literal` or `|| literal` fallback) or
 * a literal URL. */
static void eval_url(struct lexer *lx, struct prisma_config_url *u)
{
    u->rc = -EINVAL;
    if (accept_env_read(lx, u->var, sizeof u->var)) {
        struct lexer look = *lx;
        struct tok a = next(&look), b = next(&look);
        if ((is_punct(a, '?') && is_punct(b, '?')) || (is_punct(a, '|') && is_punct(b, '|'))) {
            struct tok t = next(&look);
            if ((t.kind != T_STRING && t.kind != T_TEMPLATE) ||
                literal(t, u->literal, sizeof u->literal) < 0)
                return;
            *lx = look;
        }
    } else {
        struct tok t = next(lx);
        if ((t.kind != T_STRING && t.kind != T_TEMPLATE) ||
            literal(t, u->literal, sizeof u->literal) < 0)
            return;
    }
    struct tok end = peek(lx);
    if (is_punct(end, ',') || is_punct(end, '}'))
        u->rc = 0;
}

/* An import or require of dotenv: the config then loads .env itself, as Prisma 7's `prisma
 * init` writes it (`import "dotenv/config"`). */
static bool names_dotenv(struct tok t)
{
    char name[32];
    return t.kind == T_STRING && literal(t, name, sizeof name) == 0 &&
           (strcmp(name, "dotenv/config") == 0 || strcmp(name, "dotenv") == 0 ||
            strcmp(name, "@dotenvx/dotenvx/config") == 0 || strcmp(name, "@dotenvx/dotenvx") == 0);
}

/* ---- the walk ----------------------------------------------------------------------------- */

#define MAX_DEPTH 64
#define MAX_KEY   64

struct frame {
    char open;         /* '{', '(' or '[' */
    char key[MAX_KEY]; /* '{' opened as the value of this key; "" otherwise */
};

struct walk {
    struct frame frames[MAX_DEPTH];
    int depth;
};

/* The dotted path of key in the exported object, or false when key does not sit in a chain
 * of keyed objects under the outermost object literal (parentheses around it are allowed:
 * defineConfig({...})). */
static bool key_path(const struct walk *w, const char *key, char *out, size_t outlen)
{
    int i = 0;
    while (i < w->depth && w->frames[i].open == '(')
        i++;
    if (i >= w->depth || w->frames[i].open != '{')
        return false;
    size_t o = 0;
    out[0] = '\0';
    for (i++; i < w->depth; i++) {
        if (w->frames[i].open != '{' || !w->frames[i].key[0])
            return false;
        int n = snprintf(out + o, outlen - o, "%s.", w->frames[i].key);
        if (n < 0 || (size_t)n >= outlen - o)
            return false;
        o += (size_t)n;
    }
    int n = snprintf(out + o, outlen - o, "%s", key);
    return n >= 0 && (size_t)n < outlen - o;
}

/* The keys devinit reads, by their dotted path. */
static struct prisma_config_value *wanted(struct prisma_config_values *v, const char *path)
{
    if (strcmp(path, "schema") == 0)
        return &v->schema;
    if (strcmp(path, "migrations.path") == 0)
        return &v->migrations;
    return NULL;
}

/* The name of a property key token (identifier or string literal); false for anything else
 * or a key devinit would never want (too long, a NUL inside). */
static bool key_name(struct tok t, char out[MAX_KEY])
{
    if (t.kind == T_IDENT) {
        if (t.len >= MAX_KEY)
            return false;
        memcpy(out, t.p, t.len);
        out[t.len] = '\0';
        return true;
    }
    return t.kind == T_STRING && literal(t, out, MAX_KEY) == 0;
}

void prisma_config_parse(const char *text, size_t len, struct prisma_config_values *v)
{
    memset(v, 0, sizeof *v);
    v->schema.rc = v->migrations.rc = v->url.rc = -ENOENT;
    struct lexer lx = {text, text + len};
    struct walk w = {.depth = 0};
    char pending[MAX_KEY] = ""; /* the key whose value starts with the next token */
    for (;;) {
        struct tok t = next(&lx);
        if (t.kind == T_END)
            return;
        if (names_dotenv(t))
            v->dotenv = true;
        if (t.kind == T_PUNCT && (*t.p == '{' || *t.p == '(' || *t.p == '[')) {
            if (w.depth == MAX_DEPTH)
                return; /* nothing sane nests this deep: what was found stands */
            struct frame *f = &w.frames[w.depth++];
            f->open = *t.p;
            snprintf(f->key, sizeof f->key, "%s", *t.p == '{' ? pending : "");
            pending[0] = '\0';
            continue;
        }
        pending[0] = '\0';
        if (t.kind == T_PUNCT && (*t.p == '}' || *t.p == ')' || *t.p == ']')) {
            if (w.depth > 0)
                w.depth--;
            continue;
        }
        char key[MAX_KEY], path[4 * MAX_KEY];
        if (w.depth == 0 || w.frames[w.depth - 1].open != '{' || !key_name(t, key))
            continue;
        struct tok after = peek(&lx);
        bool property = is_punct(after, ':');
        bool shorthand = t.kind == T_IDENT && (is_punct(after, ',') || is_punct(after, '}'));
        if (!(property || shorthand) || !key_path(&w, key, path, sizeof path))
            continue;
        struct prisma_config_value *val = wanted(v, path);
        bool is_url = strcmp(path, "datasource.url") == 0;
        if (shorthand) {
            /* `{ schema }`: a variable's value, which only running the file would tell. */
            if (val && val->rc == -ENOENT)
                val->rc = -EINVAL;
            if (is_url && v->url.rc == -ENOENT)
                v->url.rc = -EINVAL;
            continue;
        }
        next(&lx); /* the ':' */
        if (is_url && v->url.rc == -ENOENT) {
            eval_url(&lx, &v->url);
        } else if (val && val->rc == -ENOENT) {
            val->rc = eval_property(&lx, val->path, sizeof val->path);
            if (val->rc < 0)
                val->path[0] = '\0';
        } else if (is_punct(peek(&lx), '{')) {
            snprintf(pending, sizeof pending, "%s", key);
        }
    }
}

/* ---- the file ----------------------------------------------------------------------------- */

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

enum prisma_config_search prisma_config_search_for(const char *version)
{
    unsigned major, minor;
    if (!version || sscanf(version, "%u.%u", &major, &minor) != 2)
        return PRISMA_CONFIG_PRISMA7;
    if (major < 6 || (major == 6 && minor < 4))
        return PRISMA_CONFIG_NONE;
    if (major == 6 && minor < 13)
        return PRISMA_CONFIG_TS;
    if (major < 7 || (major == 7 && minor < 10))
        return PRISMA_CONFIG_LEGACY;
    return PRISMA_CONFIG_PRISMA7;
}

/* The extensions the loader accepts, in the order it tries them. */
static const char *const config_exts[] = {".js", ".ts", ".mjs", ".cjs", ".mts", ".cts"};
/* c12, which loads the file, also finds these; the loader then refuses them. */
static const char *const refused_exts[] = {".json", ".jsonc", ".json5", ".yaml", ".yml", ".toml"};

#define NEXTS(a) (sizeof(a) / sizeof(a)[0])

/* The first file base + ext (for ext in exts) in app_dir: 0 with its path in out, -ENOENT. */
static int first_with_ext(const char *app_dir, const char *base, const char *const *exts,
                          size_t nexts, char *out, size_t outlen)
{
    for (size_t i = 0; i < nexts; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%s", base, exts[i]);
        if (path_join(app_dir, name, out, outlen) < 0)
            return -ENAMETOOLONG;
        if (is_file(out))
            return 0;
    }
    out[0] = '\0';
    return -ENOENT;
}

int prisma_config_find(const char *app_dir, const char *cfg_config, enum prisma_config_search s,
                       char *out, size_t outlen, char *err, size_t errlen)
{
    err[0] = '\0';
    if (cfg_config && *cfg_config) {
        if (path_join(app_dir, cfg_config, out, outlen) < 0)
            return -ENAMETOOLONG;
        return is_file(out) ? 0 : -ENOENT;
    }
    out[0] = '\0';
    if (s == PRISMA_CONFIG_NONE)
        return -ENOENT;
    if (s == PRISMA_CONFIG_TS) {
        static const char *const ts[] = {".ts"};
        return first_with_ext(app_dir, "prisma.config", ts, 1, out, outlen);
    }
    static const char *const prisma7[] = {"prisma7.config", ".config/prisma7"};
    static const char *const legacy[] = {"prisma.config", ".config/prisma",
                                         ".config/prisma.config"};
    int rc;
    if (s == PRISMA_CONFIG_PRISMA7)
        for (size_t i = 0; i < NEXTS(prisma7); i++)
            if ((rc = first_with_ext(app_dir, prisma7[i], config_exts, NEXTS(config_exts), out,
                                     outlen)) != -ENOENT)
                return rc;
    for (size_t i = 0; i < NEXTS(legacy); i++) {
        if ((rc = first_with_ext(app_dir, legacy[i], config_exts, NEXTS(config_exts), out,
                                 outlen)) != -ENOENT)
            return rc;
        if (first_with_ext(app_dir, legacy[i], refused_exts, NEXTS(refused_exts), out, outlen) ==
            0) {
            snprintf(err, errlen,
                     "prisma config '%s' has an extension Prisma does not load (it fails with "
                     "\"Unsupported Prisma config file extension\"): write it as %s.ts or %s.js, "
                     "or set [prisma] config",
                     out, legacy[i], legacy[i]);
            return -EINVAL;
        }
    }
    return -ENOENT;
}

int prisma_config_load(const char *app_dir, const char *cfg_config, enum prisma_config_search s,
                       char *path, size_t pathlen, struct prisma_config_values *v, char *err,
                       size_t errlen)
{
    memset(v, 0, sizeof *v);
    v->schema.rc = v->migrations.rc = v->url.rc = -ENOENT;
    int rc = prisma_config_find(app_dir, cfg_config, s, path, pathlen, err, errlen);
    if (rc < 0)
        return rc;
    char *text;
    size_t len;
    rc = file_read(AT_FDCWD, path, 0, CONFIG_MAX, &text, &len);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read prisma config '%s': %s", path, file_strerror(rc));
        return rc;
    }
    prisma_config_parse(text, len, v);
    free(text);
    return 0;
}
