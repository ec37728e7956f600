#include "csystem.h"

int cwauth_sqlite_bind_text(sqlite3_stmt *stmt, int index, const char *text, int length) {
    return sqlite3_bind_text(stmt, index, text, length, SQLITE_TRANSIENT);
}

int cwauth_sqlite_read_header(sqlite3 *db, void *buffer, int length, sqlite3_int64 *size) {
    sqlite3_file *file = NULL;
    int rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file);
    if (rc != SQLITE_OK) return rc;
    if (file == NULL || file->pMethods == NULL) return SQLITE_CANTOPEN;
    rc = file->pMethods->xFileSize(file, size);
    if (rc != SQLITE_OK) return rc;
    return file->pMethods->xRead(file, buffer, length, 0);
}
