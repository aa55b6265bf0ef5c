#include "base/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/file.h"

int hash_begin(struct hash *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -ENOMEM;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return -ENOMEM;
    }
    h->ctx = ctx;
    return 0;
}

void hash_update(struct hash *h, const void *data, size_t len)
{
    EVP_DigestUpdate(h->ctx, data, len);
}

void hash_update_str(struct hash *h, const char *s)
{
    hash_update(h, s ? s : "", strlen(s ? s : "") + 1);
}

static void hash_piece(void *data, const void *buf, size_t len)
{
    hash_update(data, buf, len);
}

int hash_update_file(struct hash *h, const char *path, uint64_t max)
{
    struct stat st;
    int fd = file_open(AT_FDCWD, path, 0, &st);
    if (fd == -ENOENT) {
        /* Absent is a state of its own, distinct from an empty file. */
        hash_update(h, "\0absent\0", 8);
        return 0;
    }
    if (fd < 0)
        return fd;
    int rc = file_stream(fd, max, hash_piece, h);
    if (rc < 0)
        return rc;
    hash_update(h, "\0eof\0", 5);
    return 0;
}

void hash_final(struct hash *h, char hex[HASH_HEX_LEN + 1])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(h->ctx, md, &len);
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[HASH_HEX_LEN] = '\0';
}

void hash_abort(struct hash *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

int hash_buffer_hex(const void *data, size_t len, char hex[HASH_HEX_LEN + 1])
{
    struct hash h;
    int rc = hash_begin(&h);
    if (rc < 0)
        return rc;
    hash_update(&h, data, len);
    hash_final(&h, hex);
    return 0;
}

int hash_file_hex(const char *path, uint64_t max, char hex[HASH_HEX_LEN + 1])
{
    struct hash h;
    int rc = hash_begin(&h);
    if (rc < 0)
        return rc;
    rc = hash_update_file(&h, path, max);
    if (rc < 0) {
        hash_abort(&h);
        return rc;
    }
    hash_final(&h, hex);
    return 0;
}
