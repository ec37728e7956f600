import CSystemLibraries

/// The schema version and the policy counter as a fresh reader sees the database file on disk now,
/// for a health check. Read-only, so a probe can never migrate or write; a connection of its own,
/// because a long-lived connection answers from its page cache and would not notice a file
/// overwritten in place.
public enum StoreProbe {
    public struct Versions: Sendable, Equatable {
        public let schema: Int
        public let policy: Int64
    }

    /// Why the file could not be read: the SQLite result code (extended) and its message; code
    /// SQLITE_CORRUPT when the tables are there but hold no versions.
    public struct Failure: Error, Sendable, Equatable {
        public let sqliteCode: Int32
        public let message: String
    }

    public static func versions(path: String, busyTimeoutMs: Int32 = 250) -> Result<Versions, Failure> {
        var handle: OpaquePointer?
        let opened = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        defer { if let handle { sqlite3_close_v2(handle) } }
        guard opened == SQLITE_OK, let db = handle else {
            return .failure(Failure(sqliteCode: opened, message: String(cString: sqlite3_errstr(opened))))
        }
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMs)
        var prepared: OpaquePointer?
        let sql = "SELECT (SELECT max(version) FROM schema_version), (SELECT counter FROM policy_version WHERE id = 1)"
        var rc = sqlite3_prepare_v2(db, sql, -1, &prepared, nil)
        defer { if let prepared { sqlite3_finalize(prepared) } }
        guard rc == SQLITE_OK, let statement = prepared else {
            return .failure(Failure(sqliteCode: rc, message: String(cString: sqlite3_errmsg(db))))
        }
        rc = sqlite3_step(statement)
        guard rc == SQLITE_ROW else {
            return .failure(Failure(sqliteCode: rc, message: String(cString: sqlite3_errmsg(db))))
        }
        guard sqlite3_column_type(statement, 0) != SQLITE_NULL, sqlite3_column_type(statement, 1) != SQLITE_NULL else {
            return .failure(Failure(sqliteCode: SQLITE_CORRUPT, message: "no schema version or policy counter"))
        }
        return .success(Versions(schema: Int(sqlite3_column_int64(statement, 0)), policy: sqlite3_column_int64(statement, 1)))
    }
}
