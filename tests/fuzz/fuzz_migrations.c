/* The migrations folder and what devinit concludes from it: folder names, migration.sql
 * bytes, migration_lock.toml, the checksum rules and the classification of the folder against
 * rows of _prisma_migrations.
 *
 * One input describes a whole situation, in sections that start with a line "@@...":
 *
 *     DTLpemf12s              options (before the first section), any of: D deploy mode,
 *                             T the table exists, L another process holds the lock,
 *                             p e m f the pending/edited/missing/failed policy is fail,
 *                             digits: tables besides _prisma_migrations, s small buffers
 *     @@lock                  migration_lock.toml; the body follows
 *     @@dir NAME              a migration folder; the body is its migration.sql
 *     @@nosql NAME            a migration folder without migration.sql
 *     @@file NAME             a plain file in the migrations folder (Prisma ignores it)
 *     @@link NAME             a symlink to a folder in the migrations folder (ignored too)
 *     @@row FLAGS NAME        a row: FLAGS any of f (finished) r (rolled back) n (no
 *                             checksum), or "-";
 *                             the body is its checksum. NAME "=K" is the K-th local
 *                             migration's name; a body "=K" is the checksum of its script,
 *                             "=K~" its legacy rendering, "=Kc" of the script with CRLF made
 *                             LF, "=Kl" with LF made CRLF, "=KU" upper case
 *
 * The folder is written to a private temporary directory (in $TMPDIR, else /dev/shm) and
 * read back by migrations_read_dir(), which must see exactly the list built in memory with
 * migrations_list_add(). The checksum rules are checked against copies made the plain way,
 * and the classification against the rules of migrations.h applied row by row. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "prisma/migrations.h"
#include "fuzz.h"

/* The checker's own code is not instrumented: the fuzzer has nothing to learn from it, and
 * each edge it adds is one more feature to track on every run. */
#define NOCOV __attribute__((no_sanitize("coverage")))

#define MAX_LOCAL    24
#define MAX_OTHER    8
#define MAX_ROWS     32
#define NAME_LEN     200
#define DISK_ENTRIES 8

struct section {
    const char *head, *body;
    size_t headlen, bodylen;
};

enum entry_kind { ENTRY_DIR, ENTRY_NOSQL, ENTRY_FILE, ENTRY_LINK };

struct entry {
    enum entry_kind kind;
    char name[NAME_LEN + 1];
    const char *body;
    size_t len;
};

struct situation {
    enum migrate_mode mode;
    bool has_table, in_progress, small;
    enum policy pending, edited, missing, failed;
    long other_tables;
    const char *lock;
    size_t locklen;
    bool has_lock;
    struct entry entries[MAX_LOCAL + MAX_OTHER];
    size_t nentries, nlocal;
    struct row_spec {
        char flags[8];
        char name[NAME_LEN + 1];
        const char *body;
        size_t len;
    } rows[MAX_ROWS];
    size_t nrows;
};

static char base[PATH_MAX];

static void remove_base(void)
{
    if (base[0])
        rmdir(base);
}

/* The private directory, made once per process. */
static bool make_base(void)
{
    if (base[0])
        return true;
    /* run.sh points TMPDIR into its own work directory, which it removes even after a
     * crash (when atexit handlers do not run). */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(base, sizeof base, "%s/devinit-fuzz-migrations.XXXXXX", tmp);
    if (!mkdtemp(base)) {
        base[0] = '\0';
        return false;
    }
    atexit(remove_base);
    return true;
}

/* Where the next line starting with "@@" starts, at or after from (from is a line start). */
static size_t next_section(const char *d, size_t size, size_t from)
{
    for (size_t i = from; i + 1 < size; i++) {
        if ((i == from || d[i - 1] == '\n') && d[i] == '@' && d[i + 1] == '@')
            return i;
        const char *nl = memchr(d + i, '\n', size - i);
        if (!nl)
            break;
        i = (size_t)(nl - d); /* the loop's i++ moves to the next line's start */
    }
    return size;
}

/* A name as a directory entry can have it: not empty, no '/', not "." or "..". */
static bool copy_name(char *out, const char *p, size_t n)
{
    n = strnlen(p, n);
    if (n == 0 || n > NAME_LEN || memchr(p, '/', n))
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return strcmp(out, ".") && strcmp(out, "..");
}

static bool entry_taken(const struct situation *s, const char *name)
{
    for (size_t i = 0; i < s->nentries; i++)
        if (!strcmp(s->entries[i].name, name))
            return true;
    return false;
}

static void parse_input(const char *d, size_t size, struct situation *s)
{
    memset(s, 0, sizeof *s);
    size_t first = next_section(d, size, 0);
    for (size_t i = 0; i < first; i++) {
        char c = d[i];
        if (c == 'D')
            s->mode = MIGRATE_DEPLOY;
        else if (c == 'T')
            s->has_table = true;
        else if (c == 'L')
            s->in_progress = true;
        else if (c == 'p')
            s->pending = POLICY_FAIL;
        else if (c == 'e')
            s->edited = POLICY_FAIL;
        else if (c == 'm')
            s->missing = POLICY_FAIL;
        else if (c == 'f')
            s->failed = POLICY_FAIL;
        else if (c == 's')
            s->small = true;
        else if (c >= '0' && c <= '9' && s->other_tables < 100000)
            s->other_tables = s->other_tables * 10 + (c - '0');
    }
    for (size_t at = first; at < size;) {
        size_t next = next_section(d, size, at + 2);
        const char *nl = memchr(d + at, '\n', next - at);
        struct section sec = {d + at + 2, NULL, 0, 0};
        sec.headlen = (size_t)((nl ? nl : d + next) - sec.head);
        sec.body = nl ? nl + 1 : d + next;
        /* The newline before the next "@@" belongs to the separator. */
        size_t end = next < size ? next - 1 : size;
        sec.bodylen = sec.body < d + end ? (size_t)(d + end - sec.body) : 0;
        at = next;

        const char *sp = memchr(sec.head, ' ', sec.headlen);
        size_t kwlen = sp ? (size_t)(sp - sec.head) : sec.headlen;
        const char *arg = sp ? sp + 1 : sec.head + sec.headlen;
        size_t arglen = (size_t)(sec.head + sec.headlen - arg);
#define KW(w) (kwlen == sizeof(w) - 1 && !memcmp(sec.head, w, kwlen))
        if (KW("lock") && !s->has_lock) {
            s->has_lock = true;
            s->lock = sec.body;
            s->locklen = sec.bodylen;
        } else if (KW("dir") || KW("nosql") || KW("file") || KW("link")) {
            enum entry_kind k = KW("dir")     ? ENTRY_DIR
                                : KW("nosql") ? ENTRY_NOSQL
                                : KW("file")  ? ENTRY_FILE
                                              : ENTRY_LINK;
            bool local = k == ENTRY_DIR || k == ENTRY_NOSQL;
            if (local ? s->nlocal >= MAX_LOCAL : s->nentries - s->nlocal >= MAX_OTHER)
                continue;
            struct entry *e = &s->entries[s->nentries];
            /* migration_lock.toml comes from @@lock only. */
            if (!copy_name(e->name, arg, arglen) || entry_taken(s, e->name) ||
                !strcmp(e->name, "migration_lock.toml"))
                continue;
            e->kind = k;
            e->body = sec.body;
            e->len = sec.bodylen;
            s->nentries++;
            s->nlocal += local;
        } else if (KW("row") && s->nrows < MAX_ROWS) {
            const char *sp2 = memchr(arg, ' ', arglen);
            size_t flen = sp2 ? (size_t)(sp2 - arg) : arglen;
            const char *name = sp2 ? sp2 + 1 : arg + arglen;
            size_t nlen = strnlen(name, (size_t)(arg + arglen - name));
            if (nlen > NAME_LEN)
                nlen = NAME_LEN;
            struct row_spec *r = &s->rows[s->nrows++];
            snprintf(r->flags, sizeof r->flags, "%.*s", (int)(flen < 7 ? flen : 7), arg);
            memcpy(r->name, name, nlen);
            r->name[nlen] = '\0';
            r->body = sec.body;
            r->len = sec.bodylen;
        }
#undef KW
    }
}

NOCOV static void put_file(const char *path, const char *body, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK(len == 0 || write(fd, body, len) == (ssize_t)len);
    CHECK(close(fd) == 0);
}

/* The folder on disk: written, read back with migrations_read_dir(), compared with the list
 * built in memory, removed. */
NOCOV static void check_disk(const struct situation *s, const struct migration_list *mem)
{
    if (!make_base())
        return;
    char dir[PATH_MAX], path[PATH_MAX + 2 * NAME_LEN];
    snprintf(dir, sizeof dir, "%s/m", base);
    CHECK(mkdir(dir, 0700) == 0);
    if (s->has_lock) {
        snprintf(path, sizeof path, "%s/migration_lock.toml", dir);
        put_file(path, s->lock, s->locklen);
    }
    for (size_t i = 0; i < s->nentries; i++) {
        const struct entry *e = &s->entries[i];
        snprintf(path, sizeof path, "%s/%s", dir, e->name);
        if (e->kind == ENTRY_LINK) {
            CHECK(symlink(".", path) == 0);
            continue;
        }
        if (e->kind != ENTRY_FILE) {
            CHECK(mkdir(path, 0700) == 0);
            if (e->kind == ENTRY_NOSQL)
                continue;
            snprintf(path, sizeof path, "%s/%s/migration.sql", dir, e->name);
        }
        put_file(path, e->body, e->len);
    }

    struct migration_list disk;
    char err[512];
    int rc = migrations_read_dir(dir, &disk, err, sizeof err);
    CHECK(rc == 0);
    CHECK(disk.dir_exists && disk.count == mem->count);
    CHECK((disk.lock_provider == NULL) == (mem->lock_provider == NULL));
    CHECK(!disk.lock_provider || !strcmp(disk.lock_provider, mem->lock_provider));
    for (size_t i = 0; i < disk.count; i++) {
        const struct migration_local *a = &disk.items[i], *b = &mem->items[i];
        CHECK(!strcmp(a->name, b->name));
        CHECK(a->script_errno == b->script_errno && a->script_len == b->script_len);
        CHECK(!a->script_len || !memcmp(a->script, b->script, a->script_len));
        CHECK(!strcmp(a->checksum, b->checksum) && a->name_issues == b->name_issues);
    }
    migrations_list_free(&disk);

    for (size_t i = s->nentries; i-- > 0;) {
        const struct entry *e = &s->entries[i];
        if (e->kind == ENTRY_DIR) {
            snprintf(path, sizeof path, "%s/%s/migration.sql", dir, e->name);
            CHECK(unlink(path) == 0);
        }
        snprintf(path, sizeof path, "%s/%s", dir, e->name);
        CHECK((e->kind == ENTRY_DIR || e->kind == ENTRY_NOSQL ? rmdir(path) : unlink(path)) == 0);
    }
    if (s->has_lock) {
        snprintf(path, sizeof path, "%s/migration_lock.toml", dir);
        CHECK(unlink(path) == 0);
    }
    CHECK(rmdir(dir) == 0);
}

/* The bytes with every `from` replaced by `to`, made the plain way. */
NOCOV static unsigned char *replaced(const unsigned char *s, size_t len, const char *from,
                                     const char *to, size_t *outlen)
{
    size_t fl = strlen(from), tl = strlen(to);
    unsigned char *out = malloc(len * 2 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (i + fl <= len && !memcmp(s + i, from, fl)) {
            memcpy(out + o, to, tl);
            o += tl;
            i += fl;
        } else {
            out[o++] = s[i++];
        }
    }
    *outlen = o;
    return out;
}

/* "%x" per byte: how engines before prisma-engines#1887 stored a checksum. */
NOCOV static void legacy(const char *hex, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i + 1 < MIGRATIONS_CHECKSUM_LEN + 1 && hex[i] && hex[i + 1]; i += 2) {
        unsigned b;
        sscanf(hex + i, "%2x", &b);
        o += (size_t)snprintf(out + o, outlen - o, "%x", b);
    }
}

/* The checksum a row spec "=K..." stands for, into out. false when spec is a literal. */
NOCOV static bool checksum_spec(const struct migration_list *l, const char *spec, size_t len,
                                char *out, size_t outlen)
{
    if (!len || spec[0] != '=' || !l->count)
        return false;
    size_t k = 0, i = 1;
    while (i < len && spec[i] >= '0' && spec[i] <= '9' && k < 1000)
        k = k * 10 + (size_t)(spec[i++] - '0');
    const struct migration_local *m = &l->items[k % l->count];
    char mod = i < len ? spec[i] : 0;
    const unsigned char *script = m->script ? m->script : (const unsigned char *)"";
    size_t vlen;
    unsigned char *v = NULL;
    if (mod == 'c')
        v = replaced(script, m->script_len, "\r\n", "\n", &vlen);
    else if (mod == 'l')
        v = replaced(script, m->script_len, "\n", "\r\n", &vlen);
    char hex[MIGRATIONS_CHECKSUM_LEN + 1];
    if (v)
        migrations_checksum(v, vlen, hex);
    else
        migrations_checksum(script, m->script_len, hex);
    free(v);
    if (mod == '~') {
        legacy(hex, out, outlen);
    } else {
        snprintf(out, outlen, "%s", hex);
        if (mod == 'U')
            for (char *c = out; *c; c++)
                if (*c >= 'a' && *c <= 'f')
                    *c = (char)(*c - 'a' + 'A');
    }
    return true;
}

/* The checksums of a file too large to keep, computed in pieces of the given size. */
NOCOV static void streamed(const unsigned char *s, size_t n, size_t piece,
                           struct migration_local *out)
{
    struct migrations_digest d;
    memset(out, 0, sizeof *out);
    CHECK(migrations_digest_begin(&d) == 0);
    for (size_t off = 0; off < n; off += piece)
        migrations_digest_update(&d, s + off, n - off < piece ? n - off : piece);
    migrations_digest_final(&d, out);
}

/* Whole-buffer and streamed rules give one answer. */
NOCOV static bool matches(const unsigned char *s, size_t n, const struct migration_local *sm,
                          const char *stored)
{
    bool whole = migrations_checksum_matches(s, n, stored);
    CHECK(migrations_local_matches(sm, stored) == whole);
    return whole;
}

/* migrations_checksum_matches() against variants made by hand. */
NOCOV static void check_checksums(const struct migration_local *m, bool case_too)
{
    if (m->script_errno)
        return;
    const unsigned char *s = m->script;
    size_t n = m->script_len;
    struct migration_local sm;
    streamed(s, n, 1 + n % 7, &sm);
    CHECK(sm.script_len == n && !strcmp(sm.checksum, m->checksum));
    /* The first NUL byte, kept or streamed, found where memchr finds it. */
    const unsigned char *nul = memchr(s, '\0', n);
    CHECK(m->has_nul == (nul != NULL) && sm.has_nul == m->has_nul);
    CHECK(!nul || (m->nul_at == (size_t)(nul - s) && sm.nul_at == m->nul_at));
    CHECK(strlen(m->checksum) == MIGRATIONS_CHECKSUM_LEN);
    CHECK(matches(s, n, &sm, m->checksum));
    char other[MIGRATIONS_CHECKSUM_LEN + 1];
    legacy(m->checksum, other, sizeof other);
    CHECK(matches(s, n, &sm, other));
    /* A file saved with other line endings still matches what was applied. */
    static const char *const variants[][2] = {{"\r\n", "\n"}, {"\n", "\r\n"}};
    for (size_t i = 0; i < 2; i++) {
        size_t vlen;
        unsigned char *v = replaced(s, n, variants[i][0], variants[i][1], &vlen);
        if (!v)
            continue;
        migrations_checksum(v, vlen, other);
        CHECK(matches(s, n, &sm, other));
        free(v);
    }
    /* A real edit does not match; nor does another case of the same digits. */
    unsigned char *edited = malloc(n + 1);
    if (edited) {
        memcpy(edited, s, n);
        edited[n] = 'x';
        migrations_checksum(edited, n + 1, other);
        CHECK(!matches(s, n, &sm, other));
        free(edited);
    }
    snprintf(other, sizeof other, "%s", m->checksum);
    bool letters = false;
    for (char *c = other; *c; c++)
        if (*c >= 'a' && *c <= 'f') {
            *c = (char)(*c - 'a' + 'A');
            letters = true;
        }
    if (letters && case_too)
        CHECK(!matches(s, n, &sm, other));
}

NOCOV static bool in(const char *const *arr, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(arr[i], name))
            return true;
    return false;
}

/* The report against migrations.h's rules, applied one local migration and one row at a
 * time. */
NOCOV static void check_report(const struct migrations_report *rep, const struct migration_list *l,
                               const struct migration_row *rows, size_t nrows, bool in_progress)
{
    size_t napply = 0, npending = 0, nrolled = 0, napplied = 0, nedited = 0, nunread = 0, nbad = 0;
    for (size_t i = 0; i < l->count; i++) {
        const struct migration_local *m = &l->items[i];
        bool has_row = false, live = false, ok = false, mismatch = false;
        for (size_t r = 0; r < nrows; r++) {
            if (strcmp(rows[r].name, m->name))
                continue;
            has_row = true;
            if (rows[r].rolled_back)
                continue;
            live = true;
            ok |= rows[r].finished;
            if (!m->script_errno &&
                !migrations_checksum_matches(m->script, m->script_len,
                                             rows[r].checksum ? rows[r].checksum : ""))
                mismatch = true;
        }
        CHECK(in(rep->pending, rep->npending, m->name) == !has_row);
        CHECK(in(rep->rolled_back, rep->nrolled_back, m->name) == (has_row && !live));
        CHECK(in(rep->applied, rep->napplied, m->name) == ok);
        CHECK(in(rep->unreadable, rep->nunreadable, m->name) == (live && m->script_errno));
        CHECK(in(rep->edited, rep->nedited, m->name) == (live && !m->script_errno && mismatch));
        CHECK(in(rep->bad_names, rep->nbad_names, m->name) == (m->name_issues != 0));
        if (!live) {
            /* What deploy applies, in folder order. */
            CHECK(napply < rep->nto_apply && rep->to_apply[napply] == i);
            napply++;
        }
        npending += !has_row;
        nrolled += has_row && !live;
        napplied += ok;
        nedited += live && !m->script_errno && mismatch;
        nunread += live && m->script_errno;
        nbad += m->name_issues != 0;
    }
    CHECK(napply == rep->nto_apply && npending == rep->npending && nrolled == rep->nrolled_back);
    CHECK(napplied == rep->napplied && nedited == rep->nedited && nunread == rep->nunreadable);
    CHECK(nbad == rep->nbad_names);

    /* Rows: unfinished ones are failed (or in flight), unknown ones missing locally; each
     * name once, in row order. */
    size_t nfailed = 0, nmissing = 0;
    for (size_t r = 0; r < nrows; r++) {
        const char *name = rows[r].name;
        bool seen = false;
        for (size_t k = 0; k < r && !seen; k++)
            seen = !strcmp(rows[k].name, name);
        bool unfinished = !rows[r].finished && !rows[r].rolled_back;
        bool earlier_unfinished = false;
        for (size_t k = 0; k < r && !earlier_unfinished; k++)
            earlier_unfinished =
                !strcmp(rows[k].name, name) && !rows[k].finished && !rows[k].rolled_back;
        if (unfinished && !earlier_unfinished) {
            const char *const *arr = in_progress ? rep->in_flight : rep->failed;
            size_t n = in_progress ? rep->nin_flight : rep->nfailed;
            CHECK(nfailed < n && !strcmp(arr[nfailed], name));
            nfailed++;
        }
        if (migrations_list_find(l, name) < 0 && !seen) {
            CHECK(nmissing < rep->nmissing_locally &&
                  !strcmp(rep->missing_locally[nmissing], name));
            nmissing++;
        }
    }
    CHECK(nfailed == (in_progress ? rep->nin_flight : rep->nfailed));
    CHECK((in_progress ? rep->nfailed : rep->nin_flight) == 0);
    CHECK(nmissing == rep->nmissing_locally);
}

NOCOV static void check_judgement(const struct migrations_judgement *j,
                                  const struct migrations_report *rep, const struct situation *s,
                                  const struct migration_list *list)
{
    /* A readable migration.sql holding a NUL byte fails the step, whatever else is true, and
     * an issue names the first such file and its offset. */
    for (size_t i = 0; i < list->count; i++) {
        const struct migration_local *m = &list->items[i];
        if (!m->has_nul || m->script_errno)
            continue;
        CHECK(j->verdict == MIGRATIONS_FAIL && j->exit_code == EXIT_MIGRATIONS);
        char want[600];
        snprintf(want, sizeof want,
                 "'prisma/migrations/%s/migration.sql' holds a NUL byte at offset %zu", m->name,
                 m->nul_at);
        bool named = false;
        for (size_t k = 0; k < j->nissues; k++)
            named |= j->issues[k].fail && strstr(j->issues[k].text, want) != NULL;
        /* A name too long for the issue's line is cut: only a short one is looked for. */
        CHECK(named || strlen(want) > 300);
        break;
    }
    CHECK(j->nissues <= MIGRATIONS_MAX_ISSUES);
    bool any_fail = false;
    for (size_t i = 0; i < j->nissues; i++) {
        CHECK(memchr(j->issues[i].text, '\0', sizeof j->issues[i].text) && j->issues[i].text[0]);
        any_fail |= j->issues[i].fail;
    }
    CHECK(memchr(j->summary, '\0', sizeof j->summary));
    CHECK((j->verdict == MIGRATIONS_FAIL) == any_fail);
    CHECK((j->exit_code == EXIT_MIGRATIONS) == any_fail);
    if (rep->lock_mismatch)
        CHECK(j->verdict == MIGRATIONS_FAIL);
    if (j->verdict == MIGRATIONS_WOULD_RUN)
        CHECK(s->mode == MIGRATE_DEPLOY && (rep->nto_apply || rep->in_progress));
    if (j->verdict == MIGRATIONS_OK)
        CHECK(j->nissues == 0 && j->summary[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct situation s;
    parse_input((const char *)data, size, &s);

    /* The lock file, on its own. */
    char prov[256];
    if (s.has_lock) {
        migrations_lock_provider(s.lock, s.locklen, prov, s.small ? 8 : sizeof prov);
        CHECK(!strchr(prov, '\n'));
        bool provider_line = s.locklen >= 8 && !memcmp(s.lock, "provider", 8);
        for (size_t i = 0; i + 9 <= s.locklen && !provider_line; i++)
            provider_line = s.lock[i] == '\n' && !memcmp(s.lock + i + 1, "provider", 8);
        if (!provider_line)
            CHECK(!strcmp(prov, s.small ? "<PROVID" : MIGRATIONS_PROVIDER_NOT_FOUND));
    }

    /* The folder, built in memory. */
    struct migration_list list;
    memset(&list, 0, sizeof list);
    list.dir_exists = true;
    for (size_t i = 0; i < s.nentries; i++) {
        const struct entry *e = &s.entries[i];
        if (e->kind == ENTRY_DIR)
            CHECK(migrations_list_add(&list, e->name, e->body, e->len, 0) == 0);
        else if (e->kind == ENTRY_NOSQL)
            CHECK(migrations_list_add(&list, e->name, NULL, 0, ENOENT) == 0);
    }
    migrations_list_sort(&list);
    if (s.has_lock) {
        migrations_lock_provider(s.lock, s.locklen, prov, sizeof prov);
        list.lock_provider = strdup(prov);
        CHECK(list.lock_provider);
    }
    for (size_t i = 0; i < list.count; i++) {
        const struct migration_local *m = &list.items[i];
        if (i)
            CHECK(strcmp(list.items[i - 1].name, m->name) < 0);
        CHECK(migrations_list_find(&list, m->name) == (long)i);
        CHECK((m->name_issues & ~(unsigned)MIGRATION_NAME_SAME_STAMP) ==
              migrations_name_check(m->name));
        /* Not UTF-8 is a case of a byte outside [0-9a-z_]. */
        CHECK(!(m->name_issues & MIGRATION_NAME_NOT_UTF8) ||
              (m->name_issues & MIGRATION_NAME_CHARS));
        /* Same stamp: "<digits>_" shared with another name. */
        size_t st = strspn(m->name, "0123456789");
        bool same = false;
        for (size_t k = 0; k < list.count && st && m->name[st] == '_'; k++)
            same |= k != i && !strncmp(list.items[k].name, m->name, st + 1);
        CHECK(!!(m->name_issues & MIGRATION_NAME_SAME_STAMP) == same);
        /* Every check hashes the script three times or so: the first few are enough. */
        if (i < 4)
            check_checksums(m, i == 0);
    }

    /* The round trip through the file system costs ten system calls an entry: only small
     * folders take it (the reader treats every entry alike). */
    if (s.nentries <= DISK_ENTRIES)
        check_disk(&s, &list);

    /* The rows. */
    struct migration_row rows[MAX_ROWS];
    char sums[MAX_ROWS][MIGRATIONS_CHECKSUM_LEN + 8];
    for (size_t r = 0; r < s.nrows; r++) {
        const char *name = s.rows[r].name;
        if (name[0] == '=' && list.count)
            name = list.items[strtoul(name + 1, NULL, 10) % list.count].name;
        if (!checksum_spec(&list, s.rows[r].body, s.rows[r].len, sums[r], sizeof sums[r]))
            snprintf(sums[r], sizeof sums[r], "%.*s", (int)s.rows[r].len, s.rows[r].body);
        rows[r] = (struct migration_row){
            .name = name,
            .checksum = strchr(s.rows[r].flags, 'n') ? NULL : sums[r],
            .finished = strchr(s.rows[r].flags, 'f') != NULL,
            .rolled_back = strchr(s.rows[r].flags, 'r') != NULL,
            .started_at = "2025-01-01 00:00:00",
            .logs = NULL,
        };
    }

    struct migrations_report rep;
    CHECK(migrations_classify(&list, rows, s.nrows, s.has_table, s.in_progress, s.other_tables,
                              &rep) == 0);
    CHECK(rep.lock_mismatch ==
          (list.lock_provider && strcmp(list.lock_provider, "postgresql") != 0));
    check_report(&rep, &list, rows, s.nrows, s.in_progress);

    static struct migrations_judgement j;
    migrations_judge(&rep, &list, "prisma/migrations", "public", s.mode, s.pending, s.edited,
                     s.missing, s.failed, &j);
    check_judgement(&j, &rep, &s, &list);

    char names[64];
    size_t outlen = s.small ? 9 : sizeof names;
    migrations_name_list(rep.pending, rep.npending, 3, names, outlen);
    CHECK(strlen(names) < outlen);

    migrations_report_free(&rep);
    migrations_list_free(&list);
    return 0;
}
