#include "prisma/schema.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------
 * JSON: just enough to read package.json and the generated client's config object. */

struct jscan {
    const char *s;
    size_t len, pos;
};

static bool json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void jskip_ws(struct jscan *j)
{
    while (j->pos < j->len && json_ws(j->s[j->pos]))
        j->pos++;
}

static int jskip_string(struct jscan *j)
{
    if (j->pos >= j->len || j->s[j->pos] != '"')
        return -EINVAL;
    for (j->pos++; j->pos < j->len; j->pos++) {
        char c = j->s[j->pos];
        if (c == '\\')
            j->pos++;
        else if (c == '"') {
            j->pos++;
            return 0;
        }
    }
    return -EINVAL;
}

/* Skips one value. Depth is bounded so a hostile file cannot exhaust the stack. */
static int jskip_value(struct jscan *j, int depth)
{
    if (depth > 64)
        return -EINVAL;
    jskip_ws(j);
    if (j->pos >= j->len)
        return -EINVAL;
    char c = j->s[j->pos];
    if (c == '"')
        return jskip_string(j);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->pos++;
        jskip_ws(j);
        if (j->pos < j->len && j->s[j->pos] == close) {
            j->pos++;
            return 0;
        }
        for (;;) {
            if (c == '{') {
                jskip_ws(j);
                if (jskip_string(j) < 0)
                    return -EINVAL;
                jskip_ws(j);
                if (j->pos >= j->len || j->s[j->pos] != ':')
                    return -EINVAL;
                j->pos++;
            }
            if (jskip_value(j, depth + 1) < 0)
                return -EINVAL;
            jskip_ws(j);
            if (j->pos >= j->len)
                return -EINVAL;
            if (j->s[j->pos] == ',') {
                j->pos++;
                continue;
            }
            if (j->s[j->pos] == close) {
                j->pos++;
                return 0;
            }
            return -EINVAL;
        }
    }
    /* A number, true, false or null: a run of their characters. */
    size_t start = j->pos;
    while (j->pos < j->len && j->s[j->pos] && strchr("+-.0123456789eEtrufalsn", j->s[j->pos]))
        j->pos++;
    return j->pos > start ? 0 : -EINVAL;
}

static void utf8_put(char *out, size_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (char)(0xC0 | (cp >> 6));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xE0 | (cp >> 12));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*o)++] = (char)(0xF0 | (cp >> 18));
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hex4(const char *s, size_t len, size_t at, uint32_t *v)
{
    if (at + 4 > len)
        return -EINVAL;
    *v = 0;
    for (size_t i = at; i < at + 4; i++) {
        char c = s[i];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0)
            return -EINVAL;
        *v = (*v << 4) | (uint32_t)d;
    }
    return 0;
}

char *prisma_json_decode(const char *s, size_t len, size_t *end)
{
    if (len == 0 || s[0] != '"')
        return NULL;
    /* Decoding never grows the text: every escape is at least as long as its UTF-8. */
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (c == '"') {
            out[o] = '\0';
            if (end)
                *end = i + 1;
            return out;
        }
        if (c != '\\') {
            out[o++] = c;
            continue;
        }
        if (++i >= len)
            break;
        /* The one-letter escapes, letter and byte at the same index. */
        static const char letters[] = "ntrbf", bytes[] = "\n\t\r\b\f";
        const char *l = s[i] ? strchr(letters, s[i]) : NULL;
        if (l) {
            out[o++] = bytes[l - letters];
            continue;
        }
        switch (s[i]) {
        case 'u': {
            uint32_t cp;
            if (hex4(s, len, i + 1, &cp) < 0)
                goto bad;
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < len && s[i + 1] == '\\' && s[i + 2] == 'u') {
                uint32_t lo;
                if (hex4(s, len, i + 3, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            utf8_put(out, &o, cp);
            break;
        }
        default:
            out[o++] = s[i];
            break; /* \" \\ \/ and, leniently, anything else */
        }
    }
bad:
    free(out);
    return NULL;
}

/* Positions j at the value of key in the object that starts at j->pos. As JSON.parse does,
 * a later duplicate key wins. */
static int jfind_key(struct jscan *j, const char *key)
{
    jskip_ws(j);
    if (j->pos >= j->len || j->s[j->pos] != '{')
        return -EINVAL;
    j->pos++;
    size_t found = SIZE_MAX;
    jskip_ws(j);
    if (j->pos < j->len && j->s[j->pos] == '}')
        return -ENOENT;
    for (;;) {
        jskip_ws(j);
        size_t kstart = j->pos;
        if (jskip_string(j) < 0)
            return -EINVAL;
        size_t kend = j->pos;
        jskip_ws(j);
        if (j->pos >= j->len || j->s[j->pos] != ':')
            return -EINVAL;
        j->pos++;
        jskip_ws(j);
        size_t vstart = j->pos;
        if (jskip_value(j, 1) < 0)
            return -EINVAL;
        char *k = prisma_json_decode(j->s + kstart, kend - kstart, NULL);
        if (!k)
            return -ENOMEM;
        if (strcmp(k, key) == 0)
            found = vstart;
        free(k);
        jskip_ws(j);
        if (j->pos >= j->len)
            return -EINVAL;
        if (j->s[j->pos] == ',') {
            j->pos++;
            continue;
        }
        if (j->s[j->pos] == '}')
            break;
        return -EINVAL;
    }
    if (found == SIZE_MAX)
        return -ENOENT;
    j->pos = found;
    return 0;
}

int prisma_json_string(const char *json, size_t len, const char *const *path, char *out,
                       size_t outlen)
{
    struct jscan j = {json, len, 0};
    for (size_t i = 0; path[i]; i++) {
        int rc = jfind_key(&j, path[i]);
        if (rc < 0)
            return rc;
    }
    if (j.pos >= j.len || json[j.pos] != '"')
        return -EINVAL;
    char *v = prisma_json_decode(json + j.pos, len - j.pos, NULL);
    if (!v)
        return -EINVAL;
    size_t vlen = strlen(v);
    int rc = 0;
    if (vlen >= outlen)
        rc = -E2BIG;
    else
        memcpy(out, v, vlen + 1);
    free(v);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Schema text */

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
    char *v = prisma_json_decode(t.p, t.len, &end);
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

static void parse_generator_block(struct lexer *lx, struct prisma_generator *g)
{
    for (;;) {
        struct tok key = lex_next(lx);
        if (key.kind == TOK_EOF)
            return;
        if (key.kind == TOK_PUNCT && key.p[0] == '}')
            return;
        if (key.kind != TOK_IDENT)
            continue;
        size_t save = lx->pos;
        struct tok eq = lex_next(lx);
        if (!(eq.kind == TOK_PUNCT && eq.p[0] == '=')) {
            lx->pos = save;
            continue;
        }
        char value[PATH_MAX];
        bool is_env;
        parse_value(lx, value, sizeof value, &is_env);
        if (tok_is(key, TOK_IDENT, "provider")) {
            str_copy(g->provider, sizeof g->provider, value);
            g->provider_env = is_env;
        } else if (tok_is(key, TOK_IDENT, "output")) {
            str_copy(g->output, sizeof g->output, value);
            g->output_env = is_env;
        }
    }
}

int prisma_generators_parse(const char *text, size_t len, struct prisma_generator *gens, size_t max,
                            size_t *count)
{
    struct lexer lx = {text, len, 0};
    int depth = 0;
    for (;;) {
        struct tok t = lex_next(&lx);
        if (t.kind == TOK_EOF)
            return 0;
        if (t.kind == TOK_PUNCT && t.p[0] == '{') {
            depth++;
            continue;
        }
        if (t.kind == TOK_PUNCT && t.p[0] == '}') {
            if (depth > 0)
                depth--;
            continue;
        }
        if (depth != 0 || !tok_is(t, TOK_IDENT, "generator"))
            continue;
        size_t save = lx.pos;
        struct tok name = lex_next(&lx);
        struct tok open = lex_next(&lx);
        if (name.kind != TOK_IDENT || !(open.kind == TOK_PUNCT && open.p[0] == '{')) {
            lx.pos = save;
            continue;
        }
        if (*count >= max)
            return -E2BIG;
        struct prisma_generator *g = &gens[(*count)++];
        memset(g, 0, sizeof *g);
        snprintf(g->name, sizeof g->name, "%.*s", (int)name.len, name.p);
        parse_generator_block(&lx, g);
    }
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
        if (prisma_path_join(schema_dir, output, g->resolved, sizeof g->resolved) < 0)
            g->resolved[0] = '\0';
    } else if (!g->output_env && g->kind == PRISMA_GEN_CLIENT_JS) {
        /* Prisma writes next to the @prisma/client it finds; for an app with its own
         * node_modules that is this one. */
        if (prisma_path_join(app_dir, "node_modules/.prisma/client", g->resolved,
                             sizeof g->resolved) < 0)
            g->resolved[0] = '\0';
    }
}

/* ------------------------------------------------------------------------------------------
 * The generated client */

/* Finds `key` used as an object key (quoted or not) and returns the offset of the string
 * literal that is its value, or SIZE_MAX. */
static size_t find_key_string(const char *text, size_t len, const char *key)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen <= len; i++) {
        const char *hit = memmem(text + i, len - i, key, klen);
        if (!hit)
            return SIZE_MAX;
        size_t at = (size_t)(hit - text);
        i = at;
        if (at > 0 && (word_char(text[at - 1])))
            continue;
        size_t p = at + klen;
        if (p < len && text[p] == '"')
            p++;
        while (p < len && ascii_ws(text[p]))
            p++;
        if (p >= len || text[p] != ':')
            continue;
        p++;
        while (p < len && ascii_ws(text[p]))
            p++;
        if (p < len && text[p] == '"')
            return p;
    }
    return SIZE_MAX;
}

int prisma_client_extract(const char *text, size_t len, char *version, size_t vlen, char **schema)
{
    *schema = NULL;
    size_t v = find_key_string(text, len, "clientVersion");
    size_t s = find_key_string(text, len, "inlineSchema");
    if (v == SIZE_MAX || s == SIZE_MAX)
        return -ENOENT;
    char *ver = prisma_json_decode(text + v, len - v, NULL);
    if (!ver)
        return -EINVAL;
    int rc = 0;
    if (strlen(ver) >= vlen)
        rc = -E2BIG;
    else
        strcpy(version, ver);
    free(ver);
    if (rc < 0)
        return rc;
    *schema = prisma_json_decode(text + s, len - s, NULL);
    return *schema ? 0 : -EINVAL;
}

/* ------------------------------------------------------------------------------------------
 * prisma.config.* : a JavaScript tokenizer that knows comments, strings and template
 * literals, enough to find `schema: "..."` at the top level of the exported object. */

int prisma_config_schema(const char *text, size_t len, char *out, size_t outlen)
{
    int depth = 0;
    size_t i = 0;
    /* The last significant token, to tell `schema:` the key from a `schema` elsewhere. */
    while (i < len) {
        char c = text[i];
        if (ascii_ws(c)) {
            i++;
            continue;
        }
        if (c == '/' && i + 1 < len && text[i + 1] == '/') {
            while (i < len && text[i] != '\n')
                i++;
            continue;
        }
        if (c == '/' && i + 1 < len && text[i + 1] == '*') {
            const char *end = memmem(text + i + 2, len - i - 2, "*/", 2);
            i = end ? (size_t)(end - text) + 2 : len;
            continue;
        }
        bool quoted_key = false;
        size_t key_start = i, key_len = 0;
        if (c == '"' || c == '\'' || c == '`') {
            size_t j = i + 1;
            while (j < len && text[j] != c) {
                if (text[j] == '\\')
                    j++;
                j++;
            }
            key_start = i + 1;
            key_len = j < len ? j - i - 1 : 0;
            i = j < len ? j + 1 : len;
            quoted_key = true;
        } else if (word_char(c) || c == '$') {
            while (i < len && (word_char(text[i]) || text[i] == '$'))
                i++;
            key_len = i - key_start;
        } else {
            if (c == '{' || c == '(' || c == '[')
                depth++;
            else if ((c == '}' || c == ')' || c == ']') && depth > 0)
                depth--;
            i++;
            continue;
        }
        /* defineConfig({ ... }) puts the keys at depth 2, a plain exported object at 1. */
        if (depth < 1 || depth > 2 || key_len != 6 || memcmp(text + key_start, "schema", 6) != 0)
            continue;
        size_t p = i;
        while (p < len && ascii_ws(text[p]))
            p++;
        if (p < len && (text[p] == ',' || text[p] == '}') && !quoted_key)
            return -EINVAL; /* shorthand `{ schema }`: a variable */
        if (p >= len || text[p] != ':')
            continue;
        p++;
        while (p < len && ascii_ws(text[p]))
            p++;
        if (p >= len || (text[p] != '"' && text[p] != '\'' && text[p] != '`'))
            return -EINVAL;
        char q = text[p];
        size_t o = 0;
        for (p++; p < len && text[p] != q; p++) {
            if (text[p] == '\\' || text[p] == '\n' || (q == '`' && text[p] == '$'))
                return -EINVAL; /* escapes and interpolation: not a plain literal */
            if (o + 1 >= outlen)
                return -E2BIG;
            out[o++] = text[p];
        }
        if (p >= len)
            return -EINVAL;
        /* `schema: "a" + x` or a method call on the literal is not plain either. */
        size_t after = p + 1;
        while (after < len && ascii_ws(text[after]))
            after++;
        if (after < len && text[after] != ',' && text[after] != '}')
            return -EINVAL;
        out[o] = '\0';
        return 0;
    }
    return -ENOENT;
}

/* ------------------------------------------------------------------------------------------
 * Paths */

int prisma_path_join(const char *base, const char *rel, char *out, size_t outlen)
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

void prisma_path_dirname(const char *path, char *out, size_t outlen)
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

/* ------------------------------------------------------------------------------------------
 * Discovery */

int prisma_read_file(const char *path, size_t max, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO in place of a file must not hang the loop (it reads as empty). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return (errno == ENOTDIR) ? -ENOENT : -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return -EISDIR;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return -EFBIG;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    for (;;) {
        if (n == cap) { /* the file grew while we read it */
            if (cap > max) {
                free(buf);
                close(fd);
                return -EFBIG;
            }
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                close(fd);
                return -ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int err = -errno;
            free(buf);
            close(fd);
            return err;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int prisma_find_config(const char *app_dir, const char *cfg_config, char *out, size_t outlen)
{
    if (cfg_config && *cfg_config) {
        if (prisma_path_join(app_dir, cfg_config, out, outlen) < 0)
            return -ENAMETOOLONG;
        return is_file(out) ? 0 : -ENOENT;
    }
    static const char *const names[] = {
        "prisma.config.ts",   "prisma.config.mts", "prisma.config.cts",  "prisma.config.js",
        "prisma.config.mjs",  "prisma.config.cjs", ".config/prisma.ts",  ".config/prisma.mts",
        ".config/prisma.cts", ".config/prisma.js", ".config/prisma.mjs", ".config/prisma.cjs",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (prisma_path_join(app_dir, names[i], out, outlen) < 0)
            return -ENAMETOOLONG;
        if (is_file(out))
            return 0;
    }
    out[0] = '\0';
    return -ENOENT;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects *.prisma files under dir, recursively, as Prisma's multi-file schema loader does. */
static int collect_schema_files(struct prisma_project *p, const char *dir, int depth)
{
    if (depth > 16)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        struct stat st;
        if (stat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            rc = collect_schema_files(p, path, depth + 1);
            continue;
        }
        size_t nl = strlen(e->d_name);
        if (!S_ISREG(st.st_mode) || nl < 8 || strcmp(e->d_name + nl - 7, ".prisma") != 0)
            continue;
        if (p->nfiles >= PRISMA_MAX_SCHEMA_FILES) {
            rc = -E2BIG;
            break;
        }
        p->files[p->nfiles] = strdup(path);
        if (!p->files[p->nfiles]) {
            rc = -ENOMEM;
            break;
        }
        p->nfiles++;
    }
    closedir(d);
    return rc;
}

/* Sets p->schema from a path relative to base (checking it exists). */
static int take_schema(struct prisma_project *p, const char *base, const char *rel,
                       enum prisma_schema_origin origin)
{
    if (prisma_path_join(base, rel, p->schema, sizeof p->schema) < 0)
        return -ENAMETOOLONG;
    struct stat st;
    if (stat(p->schema, &st) < 0)
        return -ENOENT;
    p->schema_is_dir = S_ISDIR(st.st_mode);
    p->origin = origin;
    return 0;
}

static int locate_schema(struct prisma_project *p, const char *cfg_schema, char *err, size_t errlen)
{
    const char *app = p->app_dir;
    if (cfg_schema && *cfg_schema) {
        if (take_schema(p, app, cfg_schema, PRISMA_FROM_CONFIG_KEY) < 0) {
            snprintf(err, errlen,
                     "prisma schema '%s' ([prisma] schema) does not exist: fix the path",
                     p->schema);
            return -EINVAL;
        }
        return 0;
    }
    if (p->config[0]) {
        char *text;
        size_t len;
        int rc = prisma_read_file(p->config, 1 << 20, &text, &len);
        if (rc < 0) {
            snprintf(err, errlen, "cannot read prisma config '%s': %s", p->config, strerror(-rc));
            return rc;
        }
        char rel[PATH_MAX];
        rc = prisma_config_schema(text, len, rel, sizeof rel);
        free(text);
        if (rc == -EINVAL || rc == -E2BIG) {
            snprintf(err, errlen,
                     "cannot tell the schema location from '%s' (its schema value is not a "
                     "plain string): set [prisma] schema",
                     p->config);
            return -EINVAL;
        }
        if (rc == 0) {
            /* Prisma resolves the config's paths against the config file's directory. */
            char cdir[PATH_MAX];
            prisma_path_dirname(p->config, cdir, sizeof cdir);
            if (take_schema(p, cdir, rel, PRISMA_FROM_CONFIG_FILE) < 0) {
                snprintf(err, errlen, "prisma schema '%s' named in '%s' does not exist", p->schema,
                         p->config);
                return -EINVAL;
            }
            return 0;
        }
    }
    char pkg[PATH_MAX];
    if (prisma_path_join(app, "package.json", pkg, sizeof pkg) == 0) {
        char *text;
        size_t len;
        if (prisma_read_file(pkg, 8 << 20, &text, &len) == 0) {
            static const char *const path[] = {"prisma", "schema", NULL};
            char rel[PATH_MAX];
            int rc = prisma_json_string(text, len, path, rel, sizeof rel);
            free(text);
            if (rc == 0) {
                if (take_schema(p, app, rel, PRISMA_FROM_PACKAGE_JSON) < 0) {
                    snprintf(err, errlen,
                             "prisma schema '%s' named in '%s' (prisma.schema) does not exist",
                             p->schema, pkg);
                    return -EINVAL;
                }
                return 0;
            }
        }
    }
    static const char *const defaults[] = {"prisma/schema.prisma", "prisma/schema",
                                           "schema.prisma"};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (take_schema(p, app, defaults[i], PRISMA_FROM_DEFAULT) == 0)
            return 0;
    snprintf(err, errlen,
             "no prisma schema in '%s' (looked for prisma/schema.prisma, prisma/schema/ and "
             "schema.prisma): set [prisma] schema",
             *app ? app : ".");
    p->schema[0] = '\0';
    return -ENOENT;
}

int prisma_find_project(struct prisma_project *p, const char *app_dir, const char *cfg_schema,
                        const char *cfg_config, const char *(*getenv_fn)(const char *), char *err,
                        size_t errlen)
{
    err[0] = '\0';
    snprintf(p->app_dir, sizeof p->app_dir, "%s", app_dir ? app_dir : "");
    int rc = prisma_find_config(p->app_dir, cfg_config, p->config, sizeof p->config);
    if (rc < 0) {
        if (cfg_config && *cfg_config) {
            snprintf(err, errlen,
                     "prisma config '%s' ([prisma] config) does not exist: fix the path",
                     p->config);
            return -EINVAL;
        }
        p->config[0] = '\0';
    }
    rc = locate_schema(p, cfg_schema, err, errlen);
    if (rc < 0)
        return rc;

    if (p->schema_is_dir) {
        rc = collect_schema_files(p, p->schema, 0);
        if (rc < 0) {
            snprintf(err, errlen, "cannot list prisma schema folder '%s': %s", p->schema,
                     strerror(-rc));
            return rc;
        }
        qsort(p->files, p->nfiles, sizeof p->files[0], cmp_str);
        if (p->nfiles == 0) {
            snprintf(err, errlen, "prisma schema folder '%s' holds no .prisma file", p->schema);
            return -ENOENT;
        }
    } else {
        p->files[0] = strdup(p->schema);
        if (!p->files[0])
            return -ENOMEM;
        p->nfiles = 1;
    }

    for (size_t i = 0; i < p->nfiles; i++) {
        char *text;
        size_t len;
        rc = prisma_read_file(p->files[i], 16 << 20, &text, &len);
        if (rc < 0) {
            snprintf(err, errlen, "cannot read prisma schema '%s': %s", p->files[i], strerror(-rc));
            return rc;
        }
        size_t first = p->ngens;
        rc = prisma_generators_parse(text, len, p->gens, PRISMA_MAX_GENERATORS, &p->ngens);
        free(text);
        if (rc < 0) {
            snprintf(err, errlen, "prisma schema '%s' declares more than %d generators", p->schema,
                     PRISMA_MAX_GENERATORS);
            return -EINVAL;
        }
        char dir[PATH_MAX];
        prisma_path_dirname(p->files[i], dir, sizeof dir);
        for (size_t g = first; g < p->ngens; g++)
            prisma_generator_resolve(&p->gens[g], p->app_dir, dir, getenv_fn);
    }
    return 0;
}

void prisma_project_free(struct prisma_project *p)
{
    for (size_t i = 0; i < p->nfiles; i++) {
        free(p->files[i]);
        p->files[i] = NULL;
    }
    p->nfiles = 0;
}

int prisma_package_version(const char *app_dir, const char *package, char *version, size_t vlen,
                           char *dir, size_t dirlen)
{
    char cur[PATH_MAX];
    if (app_dir && app_dir[0] == '/') {
        snprintf(cur, sizeof cur, "%s", app_dir);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return -errno;
        if (prisma_path_join(cwd, app_dir && *app_dir ? app_dir : ".", cur, sizeof cur) < 0)
            return -ENAMETOOLONG;
    }
    for (;;) {
        char pkgdir[PATH_MAX], pj[PATH_MAX];
        int n = snprintf(pkgdir, sizeof pkgdir, "%s/node_modules/%s", strcmp(cur, "/") ? cur : "",
                         package);
        if (n > 0 && (size_t)n < sizeof pkgdir &&
            (size_t)snprintf(pj, sizeof pj, "%s/package.json", pkgdir) < sizeof pj) {
            char *text;
            size_t len;
            int rc = prisma_read_file(pj, 4 << 20, &text, &len);
            if (rc == 0) {
                static const char *const path[] = {"version", NULL};
                rc = prisma_json_string(text, len, path, version, vlen);
                free(text);
                if (rc < 0)
                    return rc;
                if (dir)
                    snprintf(dir, dirlen, "%s", pkgdir);
                return 0;
            }
            if (rc != -ENOENT)
                return rc;
        }
        if (strcmp(cur, "/") == 0)
            return -ENOENT;
        char up[PATH_MAX];
        prisma_path_dirname(cur, up, sizeof up);
        snprintf(cur, sizeof cur, "%s", up[0] ? up : "/");
    }
}

int prisma_client_file(const struct prisma_generator *g, char *out, size_t outlen)
{
    if (!g->resolved[0])
        return -ENOENT;
    static const char *const js[] = {"index.js", NULL};
    static const char *const ts[] = {"internal/class.ts", "internal/class.mts",
                                     "internal/class.cts", NULL};
    const char *const *names = g->kind == PRISMA_GEN_CLIENT_JS ? js
                               : g->kind == PRISMA_GEN_CLIENT  ? ts
                                                               : NULL;
    if (!names)
        return -ENOENT;
    for (size_t i = 0; names[i]; i++) {
        int n = snprintf(out, outlen, "%s/%s", g->resolved, names[i]);
        if (n < 0 || (size_t)n >= outlen)
            return -ENAMETOOLONG;
        if (is_file(out))
            return 0;
    }
    return -ENOENT;
}
