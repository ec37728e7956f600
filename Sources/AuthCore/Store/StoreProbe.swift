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
        do throws(StoreError) {
            let db = try SQLiteConnection(path: path, flags: .readOnly, busyTimeoutMs: busyTimeoutMs)
            let row = try db.prepare("SELECT (SELECT max(version) FROM schema_version), (SELECT counter FROM policy_version WHERE id = 1)")
            guard try row.step(), !row.isNull(0), !row.isNull(1) else {
                return .failure(Failure(sqliteCode: SQLITE_CORRUPT, message: "no schema version or policy counter"))
            }
            return .success(Versions(schema: row.int(0), policy: row.int64(1)))
        } catch {
            switch error {
            case let .sqlite(code, message, _): return .failure(Failure(sqliteCode: code, message: message))
            // The wrapper keeps only the message of a failed open: that is SQLITE_CANTOPEN (the file
            // cannot be opened; a file that is no database fails later, at prepare).
            case let .cannotOpen(_, reason): return .failure(Failure(sqliteCode: SQLITE_CANTOPEN, message: reason))
            default: return .failure(Failure(sqliteCode: SQLITE_ERROR, message: error.description))
            }
        }
    }
}
