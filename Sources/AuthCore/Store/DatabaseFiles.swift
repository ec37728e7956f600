import CSystemLibraries
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Device and inode of a file: tells a replaced database from the one we have open.
public struct FileIdentity: Equatable, Sendable, CustomStringConvertible {
    let device: UInt64
    let inode: UInt64

    /// nil when the file cannot be stat'ed (see `of` for why).
    public init?(path: String) {
        guard case let .success(identity) = Self.of(path) else { return nil }
        self = identity
    }

    private init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// `stat` only: opening and closing a descriptor on a file SQLite has open would drop its locks.
    /// The failure is stat's errno.
    public static func of(_ path: String) -> Result<FileIdentity, Errno> {
        var st = stat()
        guard stat(path, &st) == 0 else { return .failure(Errno(code: errno)) }
        return .success(FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)))
    }

    /// Why a file could not be stat'ed.
    public struct Errno: Error, Sendable, Equatable {
        public let code: Int32
        /// No file at the path (or a path component is not a folder).
        public var isMissing: Bool { code == ENOENT || code == ENOTDIR }
    }

    public var description: String { "inode \(inode)" }
}

/// The database file and the `-wal` and `-shm` SQLite keeps beside it, by name.
///
/// SQLite finds a database's write-ahead log by its file name, not by the file: when the database is
/// replaced by another file (`mv copy.db cwauth.db`) while a connection still holds the old one, the
/// old file's `-wal` stays behind under the same name, and the next connection to open the new file
/// replays the old file's frames onto it. (SQLite does not checkpoint or delete a log on close when
/// its database has moved.) A connection of this process that notices the replacement therefore
/// opens the new file through `reopen`, which first sets such a log aside.
enum DatabaseFiles {
    static func walPath(_ path: String) -> String { path + "-wal" }
    static func shmPath(_ path: String) -> String { path + "-shm" }

    /// A database file and its `-wal` as a connection of this process had them open.
    struct OpenFiles: Equatable, Sendable {
        let database: FileIdentity
        /// Stable while the connection is open: SQLite removes a log only when its last connection closes.
        let wal: FileIdentity?
    }

    /// One opening at a time in this process (the broker's thread and the registry writer may notice
    /// the same replacement together), and the files last opened at each path by any of them.
    private static let opening = Mutex<[String: OpenFiles]>([:])

    /// A connection to the file at `path`, with what it needs to notice the next replacement.
    struct Opened {
        let store: Store
        let files: OpenFiles
        /// Where a log that belonged to the previous file was moved to, if one was.
        let setAside: String?
    }

    /// Opens the database now at `path` for an owner whose previous connection (if any) is closed.
    /// `previous` is what that connection had open, else what this process last opened at `path`. When
    /// the file is another one now but the `-wal` is still that connection's log, the log belongs to
    /// the previous file: it is moved aside before SQLite can read it. Nothing is set aside without
    /// such knowledge: a log of unknown origin may be in use by another process's connection to the
    /// new file, and taking it away from under that connection would corrupt the database.
    /// The header is checked before SQLite reads anything else.
    static func reopen(path: String, actor: String, busyTimeoutMs: Int32, previous: OpenFiles?) throws(StoreError) -> Opened {
        try opening.withLock { known throws(StoreError) -> Opened in
            guard let identity = FileIdentity(path: path) else { throw .noDatabase(path: path) }
            // Opening reads the first page's header, never the log: that waits for the first statement.
            let connection = try SQLiteConnection(path: path, flags: [.readWrite], busyTimeoutMs: busyTimeoutMs)
            if let problem = headerProblem(connection) { throw headerError(problem, path: path) }
            var setAside: String?
            if let before = previous ?? known[path], before.database != identity, let wal = before.wal {
                setAside = try setAsideLog(path: path, ifStill: wal)
            }
            let store = try Store(path: path, actor: actor, connection: connection)
            let files = OpenFiles(database: identity, wal: FileIdentity(path: walPath(path)))
            known[path] = files
            return Opened(store: store, files: files, setAside: setAside)
        }
    }

    /// Moves `path-wal` to `path-wal.stale-<time>` when it is still the log `wal`, and removes
    /// `path-shm`, whose index describes that log. Returns the new name.
    static func setAsideLog(path: String, ifStill wal: FileIdentity) throws(StoreError) -> String? {
        let log = walPath(path)
        guard FileIdentity(path: log) == wal else { return nil }
        var target = "\(log).stale-\(timestamp())"
        var n = 1
        while access(target, F_OK) == 0 {
            n += 1
            target = "\(log).stale-\(timestamp())-\(n)"
        }
        guard rename(log, target) == 0 else {
            throw .sqlite(code: SQLITE_CANTOPEN, message: "the previous file's log \(log) cannot be set aside "
                + "(\(String(cString: strerror(errno)))); not opening the new file over it", path: path)
        }
        unlink(shmPath(path))
        return target
    }

    /// A file that does not even start like a SQLite database of ours is "not a cwauth database"
    /// (as SQLite itself would say); a cut or damaged one is corrupt, with the detail.
    static func headerError(_ problem: String, path: String) -> StoreError {
        problem.hasPrefix("the file is empty") || problem.hasPrefix("the header starts with") || problem.contains("application id")
            ? .notACwauthDatabase(path: path)
            : .sqlite(code: SQLITE_CORRUPT, message: problem, path: path)
    }

    /// What is wrong with the database file's header and size, or nil when it looks like a SQLite
    /// database of ours. Read through the connection's own descriptor (see cwauth_sqlite_read_header).
    static func headerProblem(_ connection: SQLiteConnection) -> String? {
        var header = [UInt8](repeating: 0, count: 100)
        var size: Int64 = 0
        let rc = header.withUnsafeMutableBytes { cwauth_sqlite_read_header(connection.handle, $0.baseAddress, 100, &size) }
        if size == 0 { return "the file is empty" }
        // SQLITE_IOERR_SHORT_READ (a macro Swift cannot import): the rest of the buffer is zeros.
        let short = rc == SQLITE_IOERR | (2 << 8)
        if rc != SQLITE_OK && !short { return "its header cannot be read (\(String(cString: sqlite3_errstr(rc))))" }
        if let problem = magicProblem(header) { return problem }
        if short || size < 100 { return "it is only \(size) bytes long" }
        return headerProblem(header, size: size)
    }

    static func magicProblem(_ header: [UInt8]) -> String? {
        let magic = Array("SQLite format 3".utf8) + [0]
        guard Array(header.prefix(16)) != magic else { return nil }
        let shown = Validation.printable(String(decoding: header.prefix(16).filter { $0 != 0 }, as: UTF8.self))
        return "the header starts with \"\(shown)\", not \"SQLite format 3\""
    }

    static func headerProblem(_ header: [UInt8], size: Int64) -> String? {
        if let problem = magicProblem(header) { return problem }
        let raw = Int(header[16]) << 8 | Int(header[17])
        let pageSize = raw == 1 ? 65_536 : raw
        guard pageSize >= 512, pageSize <= 65_536, pageSize & (pageSize - 1) == 0 else {
            return "the header names an impossible page size (\(raw))"
        }
        guard size % Int64(pageSize) == 0 else {
            return "its size (\(size) bytes) is not a whole number of \(pageSize)-byte pages (truncated, or still being copied?)"
        }
        let appID = Int64(header[68]) << 24 | Int64(header[69]) << 16 | Int64(header[70]) << 8 | Int64(header[71])
        // 0: a database being created, whose id is still in its log.
        guard appID == Schema.applicationID || appID == 0 else { return "the header's application id is not cwauth's" }
        return nil
    }

    /// UTC, to the second: `20250131T120000Z`.
    static func timestamp(_ seconds: Int64 = Clock.unixNow()) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }
}
