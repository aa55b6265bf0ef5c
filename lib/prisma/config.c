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

/* path.join(a, b, ...) or join(...), after the name: the parts joined with '/'. */
static int eval_join(struct lexer *lx, char *out, size_t outlen)
{
    if (!is_punct(next(lx), '('))
        return -EINVAL;
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

/* One value expression, consumed from lx. */
static int eval_value(struct lexer *lx, char *out, size_t outlen)
{
    struct tok t = next(lx);
    if (t.kind == T_STRING || t.kind == T_TEMPLATE)
        return literal(t, out, outlen);
    if (is_ident(t, "path")) {
        if (!is_punct(next(lx), '.'))
            return -EINVAL;
        t = next(lx);
    }
    if (is_ident(t, "join"))
        return eval_join(lx, out, outlen);
    return -EINVAL;
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
    v->schema.rc = v->migrations.rc = -ENOENT;
    v->schema.path[0] = v->migrations.path[0] = '\0';
    struct lexer lx = {text, text + len};
    struct walk w = {.depth = 0};
    char pending[MAX_KEY] = ""; /* the key whose value starts with the next token */
    for (;;) {
        struct tok t = next(&lx);
        if (t.kind == T_END)
            return;
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
        if (shorthand) {
            /* `{ schema }`: a variable's value, which only running the file would tell. */
            if (val && val->rc == -ENOENT)
                val->rc = -EINVAL;
            continue;
        }
        next(&lx); /* the ':' */
        if (val && val->rc == -ENOENT) {
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

int prisma_config_find(const char *app_dir, const char *cfg_config, char *out, size_t outlen)
{
    if (cfg_config && *cfg_config) {
        if (path_join(app_dir, cfg_config, out, outlen) < 0)
            return -ENAMETOOLONG;
        return is_file(out) ? 0 : -ENOENT;
    }
    static const char *const names[] = {
        "prisma.config.ts",   "prisma.config.mts", "prisma.config.cts",  "prisma.config.js",
        "prisma.config.mjs",  "prisma.config.cjs", ".config/prisma.ts",  ".config/prisma.mts",
        ".config/prisma.cts", ".config/prisma.js", ".config/prisma.mjs", ".config/prisma.cjs",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (path_join(app_dir, names[i], out, outlen) < 0)
            return -ENAMETOOLONG;
        if (is_file(out))
            return 0;
    }
    out[0] = '\0';
    return -ENOENT;
}

int prisma_config_load(const char *app_dir, const char *cfg_config, char *path, size_t pathlen,
                       struct prisma_config_values *v, char *err, size_t errlen)
{
    v->schema.rc = v->migrations.rc = -ENOENT;
    v->schema.path[0] = v->migrations.path[0] = '\0';
    int rc = prisma_config_find(app_dir, cfg_config, path, pathlen);
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
