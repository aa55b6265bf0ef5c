/* SHA-256 through OpenSSL's EVP interface, for stamps and migration checksums. */
#ifndef DEVINIT_HASH_H
#define DEVINIT_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_HEX_LEN 64

struct hash {
    void *ctx; /* EVP_MD_CTX */
};

/* 0 or -ENOMEM. hash_final (or hash_abort) must follow. */
int hash_begin(struct hash *h);
void hash_update(struct hash *h, const void *data, size_t len);
/* Adds a string and its terminating NUL, so ("ab","c") and ("a","bc") differ. */
void hash_update_str(struct hash *h, const char *s);
/* Adds the bytes of a regular file (base/file.h's rules: anything else is refused), at most
 * max of them (-EFBIG beyond). A missing file adds a marker instead of failing, so "absent" is
 * a state the hash distinguishes. 0, or -errno for any other error. */
int hash_update_file(struct hash *h, const char *path, uint64_t max);
/* Writes 64 lowercase hex digits and a NUL into hex[HASH_HEX_LEN + 1], frees the context. */
void hash_final(struct hash *h, char hex[HASH_HEX_LEN + 1]);
void hash_abort(struct hash *h);

/* One-shot: hex of the sha256 of a file's bytes and its end (hash_update_file: a missing file
 * hashes as "absent"). 0 or -errno. */
int hash_file_hex(const char *path, uint64_t max, char hex[HASH_HEX_LEN + 1]);

/* One-shot: hex of sha256(data). */
int hash_buffer_hex(const void *data, size_t len, char hex[HASH_HEX_LEN + 1]);

#endif
