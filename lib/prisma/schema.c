/* Prisma schema text: see schema.h. */
#include "prisma/schema.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/path.h"

/* Copies src into dst, truncated to fit (values longer than a path are not ours anyway). */
static void str_copy(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n >= len)
        n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool ascii_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (unsigned char)c >= 0x80;
}

size_t prisma_schema_normalize(const char *text, size_t len, char *out)
{
    size_t o = 0;
    bool in_string = false, in_comment = false, pending_ws = false, pending_nl = false;
    bool prev_word = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            /* Schema strings are one line; a newline ends a broken one so the rest of the
             * file is still compared the same way on both sides. The newline stays in the
             * normalised text: dropped, the next pass would read the string as running on,
             * and normalising would not be idempotent (found by fuzzing). */
            if (c == '\n') {
                in_string = false;
                pending_nl = true;
                continue;
            }
            out[o++] = c;
            if (c == '\\' && i + 1 < len && text[i + 1] != '\n')
                out[o++] = text[++i];
            else if (c == '"')
                in_string = false;
            prev_word = false;
            continue;
        }
        if (ascii_ws(c)) {
            pending_ws = true;
            if (c == '\n' && in_comment) {
                in_comment = false;
                pending_nl = true;
            }
            continue;
        }
        if (pending_nl)
            out[o++] = '\n';
        else if (pending_ws && prev_word && word_char(c))
            out[o++] = ' ';
        else if (pending_ws && c == '/' && o > 0 && out[o - 1] == '/')
            out[o++] = ' '; /* "/ /" must not become a comment opener (found by fuzzing) */
        pending_ws = pending_nl = false;
        if (!in_comment && c == '/' && i + 1 < len && text[i + 1] == '/')
            in_comment = true;
        else if (!in_comment && c == '"')
            in_string = true;
        out[o++] = c;
        prev_word = word_char(c);
    }
    out[o] = '\0';
    return o;
}

bool prisma_schema_equivalent(const char *a, size_t alen, const char *b, size_t blen)
{
    char *na = malloc(alen + 1), *nb = malloc(blen + 1);
    bool eq = false;
    if (na && nb) {
        size_t la = prisma_schema_normalize(a, alen, na);
        size_t lb = prisma_schema_normalize(b, blen, nb);
        eq = la == lb && memcmp(na, nb, la) == 0;
    }
    free(na);
    free(nb);
    return eq;
}

/* A small tokenizer for schema files: identifiers, string literals, single punctuation. */
enum tok_kind { TOK_EOF = 0, TOK_IDENT, TOK_STRING, TOK_PUNCT };

struct tok {
    enum tok_kind kind;
    const char *p; /* for TOK_STRING: the opening quote */
    size_t len;
};

struct lexer {
    const char *s;
    size_t len, pos;
};

static struct tok lex_next(struct lexer *lx)
{
    for (;;) {
        while (lx->pos < lx->len && ascii_ws(lx->s[lx->pos]))
            lx->pos++;
        if (lx->pos + 1 < lx->len && lx->s[lx->pos] == '/' && lx->s[lx->pos + 1] == '/') {
            while (lx->pos < lx->len && lx->s[lx->pos] != '\n')
                lx->pos++;
            continue;
        }
        break;
    }
    struct tok t = {TOK_EOF, lx->s + lx->pos, 0};
    if (lx->pos >= lx->len)
        return t;
    char c = lx->s[lx->pos];
    size_t start = lx->pos;
    if (c == '"') {
        lx->pos++;
        while (lx->pos < lx->len && lx->s[lx->pos] != '"' && lx->s[lx->pos] != '\n') {
            /* A backslash that ends the file escapes nothing (found by fuzzing: the token
             * ran one byte past the text). */
            if (lx->s[lx->pos] == '\\' && lx->pos + 1 < lx->len)
                lx->pos++;
            lx->pos++;
        }
        if (lx->pos < lx->len && lx->s[lx->pos] == '"')
            lx->pos++;
        t.kind = TOK_STRING;
    } else if (word_char(c) || c == '-') {
        while (lx->pos < lx->len && (word_char(lx->s[lx->pos]) || lx->s[lx->pos] == '-'))
            lx->pos++;
        t.kind = TOK_IDENT;
    } else {
        lx->pos++;
        t.kind = TOK_PUNCT;
    }
    t.len = lx->pos - start;
    return t;
}

static bool tok_is(struct tok t, enum tok_kind k, const char *text)
{
    return t.kind == k && t.len == strlen(text) && memcmp(t.p, text, t.len) == 0;
}

/* Copies a string token's decoded value. Schema strings use JSON's escapes. */
static void tok_string(struct tok t, char *out, size_t outlen)
{
    size_t end;
    char *v = json_decode_string(t.p, t.len, &end);
    if (!v) {
        out[0] = '\0';
        return;
    }
    str_copy(out, outlen, v);
    free(v);
}

/* Skips tokens until the bracket that closes open (already consumed). */
static void skip_balanced(struct lexer *lx, char open, char close)
{
    int depth = 1;
    for (;;) {
        struct tok t = lex_next(lx);
        if (t.kind == TOK_EOF)
            return;
        if (t.kind == TOK_PUNCT && t.p[0] == open)
            depth++;
        else if (t.kind == TOK_PUNCT && t.p[0] == close && --depth == 0)
            return;
    }
}

/* A value: "literal", env("NAME"), an identifier, [array] or call(...). The literal or the
 * variable's name goes to out; *is_env says which. Returns the first token after the value
 * is not consumed: lexer stays right after the value. */
static void parse_value(struct lexer *lx, char *out, size_t outlen, bool *is_env)
{
    out[0] = '\0';
    *is_env = false;
    struct tok t = lex_next(lx);
    if (t.kind == TOK_STRING) {
        tok_string(t, out, outlen);
        return;
    }
    if (t.kind == TOK_PUNCT && t.p[0] == '[') {
        skip_balanced(lx, '[', ']');
        return;
    }
    if (t.kind != TOK_IDENT)
        return;
    size_t save = lx->pos;
    struct tok open = lex_next(lx);
    if (!(open.kind == TOK_PUNCT && open.p[0] == '(')) {
        lx->pos = save;
        return;
    }
    if (tok_is(t, TOK_IDENT, "env")) {
        size_t after_open = lx->pos;
        struct tok arg = lex_next(lx);
        struct tok close = lex_next(lx);
        if (arg.kind == TOK_STRING && close.kind == TOK_PUNCT && close.p[0] == ')') {
            tok_string(arg, out, outlen);
            *is_env = true;
            return;
        }
        lx->pos = after_open;
    }
    skip_balanced(lx, '(', ')');
}

/* The next `key = value` of a block into key and value (parse_value); false at its closing
 * brace or the end of the text. Anything else in the block is stepped over. */
static bool next_entry(struct lexer *lx, struct tok *key, char *value, size_t vlen, bool *is_env)
{
    for (;;) {
        *key = lex_next(lx);
        if (key->kind == TOK_EOF || (key->kind == TOK_PUNCT && key->p[0] == '}'))
            return false;
        if (key->kind != TOK_IDENT)
            continue;
        size_t save = lx->pos;
        struct tok eq = lex_next(lx);
        if (eq.kind == TOK_PUNCT && eq.p[0] == '=') {
            parse_value(lx, value, vlen, is_env);
            return true;
        }
        lx->pos = save;
    }
}

static void parse_generator_block(struct lexer *lx, struct prisma_generator *g)
{
    struct tok key;
    char value[PATH_MAX];
    bool is_env;
    while (next_entry(lx, &key, value, sizeof value, &is_env)) {
        if (tok_is(key, TOK_IDENT, "provider")) {
            str_copy(g->provider, sizeof g->provider, value);
            g->provider_env = is_env;
        } else if (tok_is(key, TOK_IDENT, "output")) {
            str_copy(g->output, sizeof g->output, value);
            g->output_env = is_env;
        }
    }
}

/* Moves past the next top-level `<keyword> NAME {` of the text and returns true with its name
 * in name; false at the end of the text. Blocks of other kinds are stepped over. */
static bool next_block(struct lexer *lx, const char *keyword, struct tok *name, int *depth)
{
    for (;;) {
        struct tok t = lex_next(lx);
        if (t.kind == TOK_EOF)
            return false;
        if (t.kind == TOK_PUNCT && t.p[0] == '{') {
            (*depth)++;
            continue;
        }
        if (t.kind == TOK_PUNCT && t.p[0] == '}') {
            if (*depth > 0)
                (*depth)--;
            continue;
        }
        if (*depth != 0 || !tok_is(t, TOK_IDENT, keyword))
            continue;
        size_t save = lx->pos;
        *name = lex_next(lx);
        struct tok open = lex_next(lx);
        if (name->kind == TOK_IDENT && open.kind == TOK_PUNCT && open.p[0] == '{')
            return true;
        lx->pos = save;
    }
}

int prisma_generators_parse(const char *text, size_t len, struct prisma_generator *gens, size_t max,
                            size_t *count)
{
    struct lexer lx = {text, len, 0};
    int depth = 0;
    struct tok name;
    while (next_block(&lx, "generator", &name, &depth)) {
        if (*count >= max)
            return -E2BIG;
        struct prisma_generator *g = &gens[(*count)++];
        memset(g, 0, sizeof *g);
        snprintf(g->name, sizeof g->name, "%.*s", (int)name.len, name.p);
        parse_generator_block(&lx, g);
    }
    return 0;
}

bool prisma_datasource_parse(const char *text, size_t len, char *var, size_t varlen)
{
    struct lexer lx = {text, len, 0};
    int depth = 0;
    struct tok name;
    bool found = false;
    while (next_block(&lx, "datasource", &name, &depth)) {
        found = true;
        struct tok key;
        char value[PATH_MAX];
        bool is_env;
        while (next_entry(&lx, &key, value, sizeof value, &is_env))
            if (tok_is(key, TOK_IDENT, "url") && is_env && strlen(value) < varlen)
                str_copy(var, varlen, value);
    }
    return found;
}

void prisma_generator_resolve(struct prisma_generator *g, const char *app_dir,
                              const char *schema_dir, const char *(*getenv_fn)(const char *))
{
    const char *provider = g->provider;
    if (g->provider_env)
        provider = getenv_fn ? getenv_fn(g->provider) : NULL;
    g->kind = PRISMA_GEN_OTHER;
    if (provider && strcmp(provider, "prisma-client-js") == 0)
        g->kind = PRISMA_GEN_CLIENT_JS;
    else if (provider && strcmp(provider, "prisma-client") == 0)
        g->kind = PRISMA_GEN_CLIENT;

    g->resolved[0] = '\0';
    const char *output = g->output;
    if (g->output_env)
        output = getenv_fn ? getenv_fn(g->output) : NULL;
    if (output && *output) {
        if (path_join(schema_dir, output, g->resolved, sizeof g->resolved) < 0)
            g->resolved[0] = '\0';
    } else if (!g->output_env && g->kind == PRISMA_GEN_CLIENT_JS) {
        /* Prisma writes next to the @prisma/client it finds; for an app with its own
         * node_modules that is this one. */
        if (path_join(app_dir, "node_modules/.prisma/client", g->resolved, sizeof g->resolved) < 0)
            g->resolved[0] = '\0';
    }
}
