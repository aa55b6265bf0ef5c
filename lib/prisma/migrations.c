/* Prisma Migrate's folder and table rules. See migrations.h for the contract. */
#include "prisma/migrations.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/file.h"
#include "base/hash.h"
#include "base/jsonw.h"

/* --- the folder --------------------------------------------------------------------- */

static int cmp_local(const void *a, const void *b)
{
    const struct migration_local *x = a, *y = b;
    return strcmp(x->name, y->name); /* bytewise: strcmp compares as unsigned char */
}

static bool valid_utf8(const unsigned char *p)
{
    for (size_t n; *p; p += n)
        if (!(n = jsonw_utf8_len(p)))
            return false;
    return true;
}

unsigned migrations_name_check(const char *name)
{
    unsigned issues = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || *p == '_'))
            issues |= MIGRATION_NAME_CHARS;
    if ((issues & MIGRATION_NAME_CHARS) && !valid_utf8((const unsigned char *)name))
        issues |= MIGRATION_NAME_NOT_UTF8;
    return issues;
}

/* The leading digits of a name when an underscore follows them: "20240101120000_init". */
static size_t stamp_len(const char *name)
{
    size_t n = strspn(name, "0123456789");
    return (n && name[n] == '_') ? n : 0;
}

void migrations_list_sort(struct migration_list *list)
{
    if (list->count > 1)
        qsort(list->items, list->count, sizeof *list->items, cmp_local);
    for (size_t i = 0; i < list->count; i++)
        list->items[i].name_issues = migrations_name_check(list->items[i].name);
    /* Names sharing the prefix "<stamp>_" are contiguous once sorted: neighbours suffice. */
    for (size_t i = 1; i < list->count; i++) {
        struct migration_local *a = &list->items[i - 1], *b = &list->items[i];
        size_t la = stamp_len(a->name), lb = stamp_len(b->name);
        if (la && la == lb && !memcmp(a->name, b->name, la)) {
            a->name_issues |= MIGRATION_NAME_SAME_STAMP;
            b->name_issues |= MIGRATION_NAME_SAME_STAMP;
        }
    }
}

long migrations_list_find(const struct migration_list *list, const char *name)
{
    size_t lo = 0, hi = list->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(list->items[mid].name, name);
        if (!c)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* A new, zeroed entry named name at the end of the list; NULL when out of memory. The list
 * grows geometrically: ten thousand migrations must not mean ten thousand reallocs. */
static struct migration_local *list_push(struct migration_list *list, const char *name)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        struct migration_local *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return NULL;
        list->items = items;
        list->cap = cap;
    }
    struct migration_local *m = &list->items[list->count];
    memset(m, 0, sizeof *m);
    m->name = strdup(name);
    if (!m->name)
        return NULL;
    list->count++;
    return m;
}

/* Where m's kept script has its first NUL byte, if it has one. */
static void note_nul(struct migration_local *m)
{
    const unsigned char *nul = m->script ? memchr(m->script, '\0', m->script_len) : NULL;
    m->has_nul = nul != NULL;
    m->nul_at = nul ? (size_t)(nul - m->script) : 0;
}

int migrations_list_add(struct migration_list *list, const char *name, const void *script,
                        size_t len, int err)
{
    struct migration_local *m = list_push(list, name);
    if (!m)
        return -ENOMEM;
    if (script) {
        m->script = malloc(len + 1);
        if (!m->script) {
            /* The entry stays, freed with the list, as one whose file could not be read. */
            m->script_errno = ENOMEM;
            return -ENOMEM;
        }
        memcpy(m->script, script, len);
        m->script[len] = '\0';
        m->script_len = len;
        migrations_checksum(m->script, len, m->checksum);
        note_nul(m);
    } else {
        m->script_errno = err ? err : ENOENT;
    }
    return 0;
}

void migrations_list_free(struct migration_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].name);
        free(list->items[i].script);
    }
    free(list->items);
    free(list->lock_provider);
    memset(list, 0, sizeof *list);
}

static void digest_piece(void *data, const void *buf, size_t len)
{
    migrations_digest_update(data, buf, len);
}

/* Hashes fd to its end into m's checksums, and closes it. 0, or -errno. */
static int digest_fd(int fd, struct migration_local *m)
{
    struct migrations_digest d;
    if (migrations_digest_begin(&d) < 0) {
        close(fd);
        return -ENOMEM;
    }
    int rc = file_stream(fd, UINT64_MAX, digest_piece, &d);
    migrations_digest_final(&d, m);
    if (rc < 0)
        m->checksum[0] = m->checksum_lf[0] = m->checksum_crlf[0] = '\0';
    return rc;
}

/* Adds the migration in folder name of dirfd: its migration.sql kept or hashed (see
 * MIGRATIONS_KEEP_MAX), or the reason it cannot be read. 0, or -ENOMEM. */
static int add_migration(struct migration_list *list, int dirfd, const char *name)
{
    struct migration_local *m = list_push(list, name);
    if (!m)
        return -ENOMEM;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/migration.sql", name) >= sizeof path) {
        m->script_errno = ENAMETOOLONG;
        return 0;
    }
    struct stat st;
    int fd = file_open(dirfd, path, 0, &st);
    int rc;
    if (fd < 0) {
        rc = fd;
    } else if (st.st_size > MIGRATIONS_KEEP_MAX) {
        rc = digest_fd(fd, m);
    } else {
        char *text;
        rc = file_read_fd(fd, MIGRATIONS_KEEP_MAX, &text, &m->script_len);
        m->script = (unsigned char *)text;
        if (rc == 0) {
            migrations_checksum(m->script, m->script_len, m->checksum);
            note_nul(m);
        }
    }
    if (rc < 0)
        m->script_errno = -rc;
    return rc == -ENOMEM ? rc : 0;
}

int migrations_read_dir(const char *dir, struct migration_list *out, char *err, size_t errlen)
{
    struct migration_list list;
    memset(&list, 0, sizeof list);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        /* listMigrations.ts: a folder that cannot be read is an empty list. Only a missing
         * one is that quiet here; anything else is worth a message. */
        if (errno == ENOENT) {
            *out = list;
            return 0;
        }
        int e = errno;
        snprintf(err, errlen, "cannot open the migrations folder '%s': %s", dir, strerror(e));
        return -e;
    }
    list.dir_exists = true;

    char *lock = NULL;
    size_t locklen = 0;
    int r = file_read(dfd, "migration_lock.toml", 0, 1 << 20, &lock, &locklen);
    if (r == 0) {
        char prov[256];
        migrations_lock_provider(lock, locklen, prov, sizeof prov);
        free(lock);
        list.lock_provider = strdup(prov);
        if (!list.lock_provider) {
            close(dfd);
            snprintf(err, errlen, "out of memory reading '%s'", dir);
            return -ENOMEM;
        }
    }

    int dupfd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = dupfd >= 0 ? fdopendir(dupfd) : NULL;
    if (!d) {
        int e = errno;
        if (dupfd >= 0)
            close(dupfd);
        close(dfd);
        migrations_list_free(&list);
        snprintf(err, errlen, "cannot read the migrations folder '%s': %s", dir, strerror(e));
        return -e;
    }
    int rc = 0;
    struct dirent *de;
    while ((errno = 0, de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        /* Node's Dirent.isDirectory() is false for a symlink, even to a directory. */
        bool is_dir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            is_dir = fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (!is_dir)
            continue;
        rc = add_migration(&list, dfd, de->d_name);
        if (rc < 0)
            break;
    }
    if (!rc && errno) {
        rc = -errno;
        snprintf(err, errlen, "cannot read the migrations folder '%s': %s", dir, strerror(-rc));
    } else if (rc) {
        snprintf(err, errlen, "out of memory reading the migrations folder '%s'", dir);
    }
    closedir(d);
    close(dfd);
    if (rc) {
        migrations_list_free(&list);
        return rc;
    }
    migrations_list_sort(&list);
    *out = list;
    return 0;
}

void migrations_lock_provider(const char *text, size_t len, char *out, size_t outlen)
{
    static const char pfx[] = "provider = ";
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        /* str::lines(): a line ends at "\n" or "\r\n". */
        const char *lend = (le > p && le[-1] == '\r' && nl) ? le - 1 : le;
        if ((size_t)(lend - p) >= 8 && !memcmp(p, "provider", 8)) {
            const char *v = p;
            while ((size_t)(lend - v) >= sizeof pfx - 1 && !memcmp(v, pfx, sizeof pfx - 1))
                v += sizeof pfx - 1;
            while (v < lend && *v == '"')
                v++;
            const char *ve = lend;
            while (ve > v && ve[-1] == '"')
                ve--;
            snprintf(out, outlen, "%.*s", (int)(ve - v), v);
            return;
        }
        p = nl ? nl + 1 : end;
    }
    snprintf(out, outlen, "%s", MIGRATIONS_PROVIDER_NOT_FOUND);
}

/* --- checksums ---------------------------------------------------------------------- */

void migrations_checksum(const void *script, size_t len, char hex[MIGRATIONS_CHECKSUM_LEN + 1])
{
    if (hash_buffer_hex(script, len, hex) < 0)
        hex[0] = '\0';
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The digest rendered as the stored value would be: padded, or "%x" per byte (legacy). */
static bool digest_matches(const char hex[MIGRATIONS_CHECKSUM_LEN + 1], const char *stored,
                           bool legacy)
{
    if (!legacy)
        return !strcmp(hex, stored);
    char old[MIGRATIONS_CHECKSUM_LEN + 1];
    size_t o = 0;
    for (size_t i = 0; i < MIGRATIONS_CHECKSUM_LEN; i += 2) {
        int b = hexval(hex[i]) * 16 + hexval(hex[i + 1]);
        o += (size_t)snprintf(old + o, sizeof old - o, "%x", (unsigned)b);
    }
    return !strcmp(old, stored);
}

/* Hashes s[0..len) into h with every byte c turned into "\r\n" (c = '\n'). */
static void update_lf_to_crlf(struct hash *h, const unsigned char *s, size_t len, bool *seen)
{
    const unsigned char *end = s + len, *nl;
    while ((nl = memchr(s, '\n', (size_t)(end - s)))) {
        hash_update(h, s, (size_t)(nl - s));
        hash_update(h, "\r\n", 2);
        *seen = true;
        s = nl + 1;
    }
    hash_update(h, s, (size_t)(end - s));
}

int migrations_digest_begin(struct migrations_digest *d)
{
    memset(d, 0, sizeof *d);
    if (hash_begin(&d->raw) < 0)
        return -ENOMEM;
    if (hash_begin(&d->lf) < 0) {
        hash_abort(&d->raw);
        return -ENOMEM;
    }
    if (hash_begin(&d->crlf) < 0) {
        hash_abort(&d->raw);
        hash_abort(&d->lf);
        return -ENOMEM;
    }
    return 0;
}

void migrations_digest_update(struct migrations_digest *d, const void *data, size_t len)
{
    const unsigned char *s = data, *end = s + len;
    if (!len)
        return;
    if (!d->has_nul) {
        const unsigned char *nul = memchr(s, '\0', len);
        if (nul) {
            d->has_nul = true;
            d->nul_at = d->len + (size_t)(nul - s);
        }
    }
    d->len += len;
    hash_update(&d->raw, s, len);
    update_lf_to_crlf(&d->crlf, s, len, &d->has_lf);

    /* CRLF to LF: a CR is written once the byte after it is known, which may be in the next
     * piece. */
    if (d->cr_pending) {
        d->cr_pending = false;
        if (*s == '\n')
            d->has_crlf = true; /* the LF goes out with the span below; the CR is dropped */
        else
            hash_update(&d->lf, "\r", 1);
    }
    const unsigned char *span = s, *cr;
    while ((cr = memchr(s, '\r', (size_t)(end - s)))) {
        if (cr + 1 == end) {
            hash_update(&d->lf, span, (size_t)(cr - span));
            d->cr_pending = true;
            return;
        }
        if (cr[1] == '\n') {
            hash_update(&d->lf, span, (size_t)(cr - span));
            d->has_crlf = true;
            span = cr + 1;
        }
        s = cr + 1;
    }
    hash_update(&d->lf, span, (size_t)(end - span));
}

void migrations_digest_final(struct migrations_digest *d, struct migration_local *m)
{
    if (d->cr_pending)
        hash_update(&d->lf, "\r", 1);
    hash_final(&d->raw, m->checksum);
    m->has_nul = d->has_nul;
    m->nul_at = d->nul_at;
    /* A variant identical to the file is no variant: no second hash to compare. */
    if (d->has_crlf)
        hash_final(&d->lf, m->checksum_lf);
    else
        hash_abort(&d->lf), m->checksum_lf[0] = '\0';
    if (d->has_lf)
        hash_final(&d->crlf, m->checksum_crlf);
    else
        hash_abort(&d->crlf), m->checksum_crlf[0] = '\0';
    m->script_len = d->len;
}

/* Whether stored is one of m's checksums: the file's, or a variant's. */
static bool any_digest_matches(const struct migration_local *m, const char *stored)
{
    /* checksum.rs: an empty stored value is compared in the padded form (and never equals). */
    bool legacy = stored[0] && strlen(stored) != MIGRATIONS_CHECKSUM_LEN;
    return (m->checksum[0] && digest_matches(m->checksum, stored, legacy)) ||
           (m->checksum_lf[0] && digest_matches(m->checksum_lf, stored, legacy)) ||
           (m->checksum_crlf[0] && digest_matches(m->checksum_crlf, stored, legacy));
}

bool migrations_checksum_matches(const void *script, size_t len, const char *stored)
{
    struct migration_local m = {0};
    migrations_checksum(script, len, m.checksum);
    if (any_digest_matches(&m, stored))
        return true;
    /* Only a mismatch pays for the variants (a file checked out with other line endings):
     * the streaming digest hashes them, and the file once more, in one pass. */
    struct migrations_digest d;
    if (migrations_digest_begin(&d) < 0)
        return false;
    migrations_digest_update(&d, script, len);
    migrations_digest_final(&d, &m);
    return any_digest_matches(&m, stored);
}

bool migrations_local_matches(const struct migration_local *m, const char *stored)
{
    if (m->script_errno)
        return false;
    if (m->script)
        return migrations_checksum_matches(m->script, m->script_len, stored);
    return any_digest_matches(m, stored);
}

int migrations_load_script(const char *dir, const struct migration_local *m,
                           const unsigned char **script, size_t *len, unsigned char **owned,
                           char *err, size_t errlen)
{
    *owned = NULL;
    if (m->script) {
        *script = m->script;
        *len = m->script_len;
        return 0;
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s/migration.sql", dir, m->name) >= sizeof path) {
        snprintf(err, errlen,
                 "the path of '%s/migration.sql' in '%s' is too long to read it "
                 "again: set [migrate] dir to a shorter path",
                 m->name, dir);
        return -ENAMETOOLONG;
    }
    char *text = NULL;
    size_t n = 0;
    /* Regular files only, and a regular file is bounded by its size. */
    int rc = file_read(AT_FDCWD, path, 0, SIZE_MAX, &text, &n);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path, file_strerror(rc));
        return rc;
    }
    unsigned char *buf = (unsigned char *)text;
    /* What is applied must be what was compared: an editor saving it since then would
     * otherwise have its new content recorded under the old checksum. */
    char hex[MIGRATIONS_CHECKSUM_LEN + 1];
    migrations_checksum(buf, n, hex);
    if (strcmp(hex, m->checksum) != 0) {
        free(buf);
        snprintf(err, errlen, "'%s' changed while devinit was deploying it: run devinit again",
                 path);
        return -ESTALE;
    }
    *script = buf;
    *len = n;
    *owned = buf;
    return 0;
}

/* --- classification ----------------------------------------------------------------- */

void migrations_report_free(struct migrations_report *rep)
{
    free(rep->applied);
    free(rep->pending);
    free(rep->failed);
    free(rep->in_flight);
    free(rep->edited);
    free(rep->unreadable);
    free(rep->missing_locally);
    free(rep->rolled_back);
    free(rep->to_apply);
    free(rep->bad_names);
    memset(rep, 0, sizeof *rep);
}

static bool contains(const char *const *arr, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(arr[i], name))
            return true;
    return false;
}

int migrations_classify(const struct migration_list *list, const struct migration_row *rows,
                        size_t nrows, bool has_table, bool in_progress, long other_tables,
                        struct migrations_report *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->has_table = has_table;
    rep->in_progress = in_progress;
    rep->other_tables = other_tables;
    rep->lock_provider = list->lock_provider;
    rep->lock_mismatch = list->lock_provider && strcmp(list->lock_provider, "postgresql") != 0;

    size_t nl = list->count ? list->count : 1, nr = nrows ? nrows : 1;
    rep->applied = calloc(nl, sizeof *rep->applied);
    rep->pending = calloc(nl, sizeof *rep->pending);
    rep->edited = calloc(nl, sizeof *rep->edited);
    rep->unreadable = calloc(nl, sizeof *rep->unreadable);
    rep->rolled_back = calloc(nl, sizeof *rep->rolled_back);
    rep->to_apply = calloc(nl, sizeof *rep->to_apply);
    rep->bad_names = calloc(nl, sizeof *rep->bad_names);
    rep->failed = calloc(nr, sizeof *rep->failed);
    rep->in_flight = calloc(nr, sizeof *rep->in_flight);
    rep->missing_locally = calloc(nr, sizeof *rep->missing_locally);
    /* Row indices per local migration, built in one pass so 1,000 migrations stay linear
     * apart from the lookups (log n each). */
    long *row_local = calloc(nr, sizeof *row_local);
    unsigned char *flags = calloc(nl, 1);
    if (!rep->applied || !rep->pending || !rep->edited || !rep->unreadable || !rep->rolled_back ||
        !rep->to_apply || !rep->bad_names || !rep->failed || !rep->in_flight ||
        !rep->missing_locally || !row_local || !flags) {
        free(row_local);
        free(flags);
        migrations_report_free(rep);
        return -ENOMEM;
    }
    enum { HAS_ROW = 1, HAS_LIVE = 2, HAS_OK = 4, HAS_ROLLED = 8, MISMATCH = 16 };

    for (size_t r = 0; r < nrows; r++) {
        const struct migration_row *row = &rows[r];
        long i = migrations_list_find(list, row->name);
        row_local[r] = i;
        if (!row->finished && !row->rolled_back) {
            /* A row another replica is writing right now looks failed; Prisma's advisory
             * lock, held by the writer, tells them apart. */
            if (in_progress) {
                if (!contains(rep->in_flight, rep->nin_flight, row->name))
                    rep->in_flight[rep->nin_flight++] = row->name;
            } else if (!contains(rep->failed, rep->nfailed, row->name)) {
                rep->failed[rep->nfailed++] = row->name;
            }
        }
        if (i < 0) {
            if (!contains(rep->missing_locally, rep->nmissing_locally, row->name))
                rep->missing_locally[rep->nmissing_locally++] = row->name;
            continue;
        }
        const struct migration_local *m = &list->items[i];
        flags[i] |= HAS_ROW;
        if (row->rolled_back) {
            flags[i] |= HAS_ROLLED;
            continue;
        }
        flags[i] |= HAS_LIVE;
        if (row->finished)
            flags[i] |= HAS_OK;
        /* Prisma's diagnose compares only the oldest row of a name (`find` in
         * diagnose_migration_history.rs), so a migration fixed after `migrate resolve
         * --rolled-back` and deployed again would look edited there; the rows that count
         * are the ones not rolled back. */
        if (!m->script_errno && !migrations_local_matches(m, row->checksum ? row->checksum : ""))
            flags[i] |= MISMATCH;
    }

    for (size_t i = 0; i < list->count; i++) {
        const struct migration_local *m = &list->items[i];
        if (m->name_issues)
            rep->bad_names[rep->nbad_names++] = m->name;
        if (!(flags[i] & HAS_ROW)) {
            rep->pending[rep->npending++] = m->name;
            rep->to_apply[rep->nto_apply++] = i;
            continue;
        }
        if (flags[i] & HAS_OK)
            rep->applied[rep->napplied++] = m->name;
        if (!(flags[i] & HAS_LIVE)) {
            rep->rolled_back[rep->nrolled_back++] = m->name;
            rep->to_apply[rep->nto_apply++] = i;
            continue;
        }
        if (m->script_errno)
            rep->unreadable[rep->nunreadable++] = m->name;
        else if (flags[i] & MISMATCH)
            rep->edited[rep->nedited++] = m->name;
    }
    free(row_local);
    free(flags);
    return 0;
}

/* --- policies ----------------------------------------------------------------------- */

char *migrations_name_list(const char *const *names, size_t n, size_t max, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < max && o < outlen; i++) {
        int w = snprintf(out + o, outlen - o, "%s'%s'", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
    if (n > max && o < outlen)
        snprintf(out + o, outlen - o, " and %zu more", n - max);
    return out;
}

#define LIST_MAX 5

static void add_issue(struct migrations_judgement *j, bool fail, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_issue(struct migrations_judgement *j, bool fail, const char *fmt, ...)
{
    if (j->nissues == MIGRATIONS_MAX_ISSUES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->issues[j->nissues].text, sizeof j->issues[j->nissues].text, fmt, ap);
    va_end(ap);
    j->issues[j->nissues].fail = fail;
    j->nissues++;
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

void migrations_judge(const struct migrations_report *rep, const struct migration_list *list,
                      const char *dir, const char *schema, enum migrate_mode mode,
                      enum policy pending, enum policy edited, enum policy missing_locally,
                      enum policy failed, struct migrations_judgement *j)
{
    memset(j, 0, sizeof *j);
    char names[400];
    bool deploy = mode == MIGRATE_DEPLOY;
    size_t napply = rep->nto_apply;

    if (rep->lock_mismatch)
        add_issue(j, true,
                  "'%s/migration_lock.toml' says provider '%s' but the database is postgresql "
                  "(Prisma error P3019): these migrations were made for another database; "
                  "point [migrate] dir at the postgresql ones or fix the lock file",
                  dir, rep->lock_provider);

    /* The failed rows and, in deploy mode, what Prisma's own deploy would refuse. */
    if (rep->nfailed) {
        migrations_name_list(rep->failed, rep->nfailed, LIST_MAX, names, sizeof names);
        bool blocks = deploy && (napply || !rep->has_table);
        /* A script without its own COMMIT ran in one implicit transaction, which PostgreSQL
         * rolled back whole: usually there is nothing to repair by hand. */
        add_issue(j, blocks || failed == POLICY_FAIL,
                  "%zu failed %s in the database: %s%s: if its migration.sql has its own COMMIT, "
                  "undo by hand what it committed (otherwise PostgreSQL rolled it back whole and "
                  "nothing of it is applied), then run 'npx prisma migrate resolve --rolled-back "
                  "%s' (or --applied if you completed it)%s",
                  rep->nfailed, plural(rep->nfailed, "migration", "migrations"), names,
                  blocks ? " (Prisma error P3009: deploy applies nothing)" : "", rep->failed[0],
                  rep->nfailed > 1 ? " for each" : "");
    }

    size_t nlocal = list->count;
    if (!rep->has_table && nlocal && rep->other_tables > 0) {
        if (deploy)
            add_issue(j, true,
                      "schema '%s' has %ld %s but no _prisma_migrations table (Prisma error "
                      "P3005): baseline it with 'npx prisma migrate resolve --applied NAME' "
                      "for each migration already in the database",
                      schema, rep->other_tables,
                      plural((size_t)rep->other_tables, "table", "tables"));
    }

    /* Refused whatever the mode and state: pending, it would run cut short under a row that
     * records the whole file; applied, it may have been. */
    for (size_t i = 0; i < nlocal; i++) {
        const struct migration_local *m = &list->items[i];
        if (m->has_nul && !m->script_errno) {
            size_t more = 0;
            for (size_t k = i + 1; k < nlocal; k++)
                more += list->items[k].has_nul && !list->items[k].script_errno;
            char others[64] = "";
            if (more)
                snprintf(others, sizeof others, " (and %zu more migration.sql %s)", more,
                         plural(more, "file", "files"));
            add_issue(j, true,
                      "'%s/%s/migration.sql' holds a NUL byte at offset %zu%s: SQL cannot "
                      "contain one and only the text before it would run; remove it (a file "
                      "saved as UTF-16 is full of them: save it as UTF-8)",
                      dir, m->name, m->nul_at, others);
            break;
        }
    }

    /* Refused before anything is applied: the INSERT of its row would fail halfway through
     * the deploy. */
    for (size_t k = 0; k < rep->nto_apply; k++) {
        const struct migration_local *m = &list->items[rep->to_apply[k]];
        if (m->name_issues & MIGRATION_NAME_NOT_UTF8) {
            add_issue(j, deploy,
                      "migration folder '%s' in '%s' is not named in UTF-8, which "
                      "_prisma_migrations cannot store: %srename the folder (its name is the "
                      "migration's name)",
                      m->name, dir, deploy ? "" : "deploy would refuse it; ");
            break;
        }
    }
    if (deploy) {
        for (size_t k = 0; k < rep->nto_apply; k++) {
            const struct migration_local *m = &list->items[rep->to_apply[k]];
            if (m->script_errno) {
                add_issue(j, true,
                          "migration '%s' cannot be applied: '%s/%s/migration.sql': %s "
                          "(Prisma error P3015): restore the file or remove the folder",
                          m->name, dir, m->name, strerror(m->script_errno));
                break;
            }
        }
    } else if (napply) {
        /* Deploy is advised only where it would succeed: not when it would refuse. */
        bool p3005 = !rep->has_table && rep->other_tables > 0;
        char remedy[400] = "";
        if (p3005)
            snprintf(remedy, sizeof remedy,
                     "but schema '%s' has %ld %s and no _prisma_migrations table, so deploy "
                     "would refuse (Prisma error P3005): baseline it first with 'npx prisma "
                     "migrate resolve --applied NAME' for each migration already in the "
                     "database",
                     schema, rep->other_tables,
                     plural((size_t)rep->other_tables, "table", "tables"));
        else if (rep->nfailed)
            snprintf(remedy, sizeof remedy,
                     "deploy applies nothing until the failed %s resolved (Prisma error "
                     "P3009)",
                     plural(rep->nfailed, "migration is", "migrations are"));
        if (rep->npending) {
            migrations_name_list(rep->pending, rep->npending, LIST_MAX, names, sizeof names);
            add_issue(j, pending == POLICY_FAIL, "%zu %s not applied: %s: %s", rep->npending,
                      plural(rep->npending, "migration", "migrations"), names,
                      p3005 || rep->nfailed
                          ? remedy
                          : "run 'npx prisma migrate deploy' (or set [migrate] mode = deploy)");
        }
        if (rep->nrolled_back) {
            migrations_name_list(rep->rolled_back, rep->nrolled_back, LIST_MAX, names,
                                 sizeof names);
            add_issue(j, pending == POLICY_FAIL, "%zu rolled-back %s not applied again: %s: %s",
                      rep->nrolled_back, plural(rep->nrolled_back, "migration", "migrations"),
                      names, rep->nfailed ? remedy : "run 'npx prisma migrate deploy' to re-apply");
        }
    }

    if (rep->nedited) {
        migrations_name_list(rep->edited, rep->nedited, LIST_MAX, names, sizeof names);
        add_issue(j, edited == POLICY_FAIL,
                  "%zu %s changed after being applied: %s: restore %s from version control "
                  "and put the change in a new migration ('npx prisma migrate dev "
                  "--create-only')",
                  rep->nedited, plural(rep->nedited, "migration was", "migrations were"), names,
                  plural(rep->nedited, "its migration.sql", "their migration.sql"));
    }
    if (rep->nunreadable) {
        migrations_name_list(rep->unreadable, rep->nunreadable, LIST_MAX, names, sizeof names);
        /* Missing or there but unreadable (permissions, a FIFO, a loop): say which. */
        long first = migrations_list_find(list, rep->unreadable[0]);
        int why = first >= 0 ? list->items[first].script_errno : ENOENT;
        add_issue(j, edited == POLICY_FAIL,
                  "%zu applied %s no readable migration.sql in '%s': %s (%s%s) (Prisma error "
                  "P3015): restore the file from version control%s",
                  rep->nunreadable, plural(rep->nunreadable, "migration has", "migrations have"),
                  dir, names, rep->nunreadable > 1 ? "the first: " : "", strerror(why),
                  why == ENOENT ? "" : " or make it a readable file");
    }
    if (rep->nmissing_locally) {
        migrations_name_list(rep->missing_locally, rep->nmissing_locally, LIST_MAX, names,
                             sizeof names);
        add_issue(j, missing_locally == POLICY_FAIL,
                  "%zu %s in the database but not in '%s': %s: pull the missing %s, or set "
                  "[migrate] dir to the right folder",
                  rep->nmissing_locally,
                  plural(rep->nmissing_locally, "migration is", "migrations are"), dir, names,
                  plural(rep->nmissing_locally, "folder", "folders"));
    }
    if (rep->in_progress && !deploy) {
        char inflight[400] = "";
        if (rep->nin_flight)
            migrations_name_list(rep->in_flight, rep->nin_flight, LIST_MAX, inflight,
                                 sizeof inflight);
        add_issue(j, false,
                  "another process holds Prisma Migrate's advisory lock: a migrate deploy is "
                  "in progress%s%s; check again when it is done",
                  inflight[0] ? ", applying " : "", inflight);
    }
    if (rep->nbad_names) {
        migrations_name_list(rep->bad_names, rep->nbad_names, LIST_MAX, names, sizeof names);
        add_issue(j, false,
                  "%zu migration %s not of the form YYYYMMDDHHMMSS_name ([0-9a-z_], one "
                  "timestamp each): %s: Prisma may order them differently than devinit",
                  rep->nbad_names, plural(rep->nbad_names, "name is", "names are"), names);
    }

    /* What `prisma migrate status` exits 1 for (pending, failed, no table in a schema that
     * has tables), what deploy would refuse, and an edit. */
    bool refuses = rep->lock_mismatch || (!rep->has_table && nlocal && rep->other_tables > 0);
    for (size_t k = 0; k < rep->nto_apply; k++) {
        const struct migration_local *m = &list->items[rep->to_apply[k]];
        if (m->script_errno || (m->name_issues & MIGRATION_NAME_NOT_UTF8))
            refuses = true;
    }
    j->needs_action =
        napply || rep->nin_flight || rep->nfailed || rep->nedited || rep->nunreadable || refuses;

    bool any_fail = false, any_warn = false;
    for (size_t i = 0; i < j->nissues; i++) {
        if (j->issues[i].fail)
            any_fail = true;
        else
            any_warn = true;
    }
    if (any_fail) {
        j->verdict = MIGRATIONS_FAIL;
        j->exit_code = EXIT_MIGRATIONS;
        return;
    }
    if (deploy && (napply || rep->in_progress)) {
        j->verdict = MIGRATIONS_WOULD_RUN;
        if (napply) {
            const char *tmp[LIST_MAX];
            size_t n = 0;
            for (size_t k = 0; k < napply && k < LIST_MAX; k++)
                tmp[n++] = list->items[rep->to_apply[k]].name;
            migrations_name_list(tmp, n, LIST_MAX, names, sizeof names);
            snprintf(j->summary, sizeof j->summary, "%zu %s to apply: %s%s", napply,
                     plural(napply, "migration", "migrations"), names,
                     napply > LIST_MAX ? " and more" : "");
        } else {
            snprintf(j->summary, sizeof j->summary,
                     "another process is deploying migrations: waiting for its advisory lock");
        }
        return;
    }
    j->verdict = any_warn ? MIGRATIONS_WARN : MIGRATIONS_OK;
    if (!nlocal && !rep->has_table)
        snprintf(j->summary, sizeof j->summary, "no migrations in '%s' and none applied", dir);
    else
        snprintf(j->summary, sizeof j->summary, "%zu %s applied, database up to date",
                 rep->napplied, plural(rep->napplied, "migration", "migrations"));
}
