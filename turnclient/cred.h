/* turnclient/cred.h: TURN credentials, private to turnclient/ and its tests. */
#ifndef TURNCLIENT_CRED_H
#define TURNCLIENT_CRED_H

#include <stddef.h>
#include <stdint.h>

#define TURN_KEY_MAX 32 /* SHA-256 */

/* The long-term key (RFC 8489 §9.2.2): MD5 (algorithm STUN_PASSWORD_ALGORITHM_MD5) or SHA-256
 * (STUN_PASSWORD_ALGORITHM_SHA256) of username ":" realm ":" SASLprep(password), the password
 * prepared with libidn's SASLprep profile so that the RFC 5769 vector (a password with a soft
 * hyphen and compatibility characters) gives the right key. realm is as the server sent it.
 * Writes the key into ret_key (TURN_KEY_MAX bytes) and returns its length (16 or 32), or
 * -EINVAL (unknown algorithm, password SASLprep refuses), -ENOMEM, -EIO. */
int turn_cred_long_term_key(const char *username, const uint8_t *realm, size_t realm_len,
                            const char *password, uint16_t algorithm, uint8_t *ret_key);

/* USERHASH (RFC 8489 §14.4): SHA-256(username ":" realm) into ret_hash[32]. */
int turn_cred_userhash(const char *username, const uint8_t *realm, size_t realm_len,
                       uint8_t *ret_hash);

/* TURN REST API credentials (draft-uberti-behave-turn-rest, coturn --use-auth-secret):
 * username "<expiry>:<user>" and password base64(HMAC-SHA1(secret, username)). Writes both
 * NUL-terminated (ret_username: ucap bytes, ret_password: at least 29 bytes). Returns 0,
 * -ENOSPC or -EIO. */
int turn_cred_rest(const char *secret, const char *user, int64_t expiry_unix, char *ret_username,
                   size_t ucap, char *ret_password);

#endif
