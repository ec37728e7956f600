#ifndef CWAUTH_CSYSTEM_H
#define CWAUTH_CSYSTEM_H

/* The system C libraries AuthCore uses: SQLite, OpenSSL's libcrypto, glibc's malloc_trim. No broker
 * header here, so the core cannot depend on Mosquitto by accident. */

#include <stddef.h>
#include <stdint.h>
#include <malloc.h>
#include <sqlite3.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>

/* Binds text that SQLite must copy (SQLITE_TRANSIENT is a macro cast Swift cannot import). */
int cwauth_sqlite_bind_text(sqlite3_stmt *stmt, int index, const char *text, int length);

/* Reads the first `length` bytes of a connection's main database file, and its size, through the
 * connection's own file handle: opening and closing another descriptor on a file SQLite has open
 * would drop the process's POSIX locks on it. Returns an SQLite result code. */
int cwauth_sqlite_read_header(sqlite3 *db, void *buffer, int length, sqlite3_int64 *size);

/* A read hint for the ACL check (Swift has no prefetch): it asks for the trie slots a walk will
 * probe before the walk needs them, so that misses overlap instead of following one another. */
static inline void cwauth_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
