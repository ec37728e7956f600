import CSystemLibraries
#if canImport(Glibc)
import Glibc
#endif

/// A thin, typed wrapper over one sqlite3 connection. Not thread-safe by design: every owner
/// (CLI command, plugin state, server request) uses its own connection from one thread at a time.
final class SQLiteConnection {
    let handle: OpaquePointer
    let path: String

    struct Flags: OptionSet {
        let rawValue: Int32
        static let readOnly = Flags(rawValue: SQLITE_OPEN_READONLY)
        static let readWrite = Flags(rawValue: SQLITE_OPEN_READWRITE)
        static let create = Flags(rawValue: SQLITE_OPEN_CREATE)
    }

    init(path: String, flags: Flags, busyTimeoutMs: Int32) throws(StoreError) {
        var db: OpaquePointer?
        // NOMUTEX: each connection is confined to one thread; FULLMUTEX would tax every hot call.
        let rc = sqlite3_open_v2(path, &db, flags.rawValue | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw .cannotOpen(path: path, reason: message)
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMs)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    func execute(_ sql: String) throws(StoreError) {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? lastError
            sqlite3_free(errmsg)
            throw StoreError.sqlite(code: rc, message: message, path: path)
        }
    }

    func prepare(_ sql: String) throws(StoreError) -> Statement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            throw StoreError.sqlite(code: rc, message: lastError, path: path)
        }
        return Statement(stmt, connection: self)
    }

    /// Runs `body` inside BEGIN IMMEDIATE … COMMIT: writers take the lock up front, so a busy
    /// database fails fast at BEGIN instead of half-way through a change.
    func writeTransaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try transaction(begin: "BEGIN IMMEDIATE", body)
    }

    /// A consistent view across several SELECTs (WAL readers never block writers).
    func readTransaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try transaction(begin: "BEGIN DEFERRED", body)
    }

    private func transaction<T>(begin: String, _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try execute(begin)
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    func scalarInt(_ sql: String) throws(StoreError) -> Int64? {
        let stmt = try prepare(sql)
        guard try stmt.step() else { return nil }
        return stmt.isNull(0) ? nil : stmt.int64(0)
    }

    func text(_ sql: String) throws(StoreError) -> String? {
        let stmt = try prepare(sql)
        guard try stmt.step() else { return nil }
        return stmt.optionalText(0)
    }

    var changes: Int { Int(sqlite3_changes(handle)) }
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
}

/// A prepared statement; binding indexes are 1-based, column indexes 0-based, as in SQLite.
final class Statement {
    private let stmt: OpaquePointer
    private unowned let connection: SQLiteConnection

    init(_ stmt: OpaquePointer, connection: SQLiteConnection) {
        self.stmt = stmt
        self.connection = connection
    }

    deinit { sqlite3_finalize(stmt) }

    @discardableResult
    func bind(_ values: SQLValue...) throws(StoreError) -> Statement {
        try bind(values)
    }

    @discardableResult
    func bind(_ values: [SQLValue]) throws(StoreError) -> Statement {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(stmt, index)
            case let .int(v): rc = sqlite3_bind_int64(stmt, index, v)
            case let .text(s):
                rc = s.utf8CString.withUnsafeBufferPointer { buf in
                    cwauth_sqlite_bind_text(stmt, index, buf.baseAddress, Int32(buf.count - 1))
                }
            }
            if rc != SQLITE_OK { throw StoreError.sqlite(code: rc, message: connection.lastError, path: connection.path) }
        }
        return self
    }

    /// Returns true while there is a row to read.
    func step() throws(StoreError) -> Bool {
        let rc = sqlite3_step(stmt)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = connection.lastError
            sqlite3_reset(stmt)
            throw StoreError.sqlite(code: rc, message: message, path: connection.path)
        }
    }

    func run() throws(StoreError) {
        while try step() {}
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(stmt, column) == SQLITE_NULL }
    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(stmt, column) }
    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(stmt, column)) }
    func bool(_ column: Int32) -> Bool { sqlite3_column_int64(stmt, column) != 0 }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(stmt, column) else { return "" }
        let count = Int(sqlite3_column_bytes(stmt, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }
    func optionalInt64(_ column: Int32) -> Int64? { isNull(column) ? nil : int64(column) }
}

enum SQLValue {
    case null
    case int(Int64)
    case text(String)

    static func optional(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    static func bool(_ b: Bool) -> SQLValue { .int(b ? 1 : 0) }
}
