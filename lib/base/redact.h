/* Secrets masked in text before it is printed: the one mechanism behind every message that
 * may quote a database URL, a conninfo string or a password. Pure. */
#ifndef DEVINIT_REDACT_H
#define DEVINIT_REDACT_H

#include <stddef.h>

/* Copies text into out (always NUL-terminated, cut to outlen - 1) with "***" in place of:
 *   - every occurrence of the nsecrets strings of secrets (longer ones first where several
 *     start at one place: order secrets so),
 *   - the password of anything shaped like "scheme://user:secret@" (up to the last '@' of the
 *     token, so an unencoded '/', '?' or '@' in it is still covered), and all of
 *     "scheme://secret@" when the part before the '@' holds no ':' but a '/', '?' or '#'
 *     (it cannot be a plain user name): whatever a URL parser makes of the token, the text
 *     from the first ':' after "://" (or from "://") to the token's last '@' never shows,
 *   - "password=secret" and "sslpassword=secret" pairs.
 * text and out must not overlap. Out of memory: out holds only the mask. Returns out. */
char *redact(const char *const *secrets, size_t nsecrets, const char *text, char *out,
             size_t outlen);

#endif
