import CSystemLibraries

/// Every failure the store can report, each with a message an operator can act on.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case noDatabase(path: String)
    case cannotOpen(path: String, reason: String)
    case notACwauthDatabase(path: String)
    case schemaTooNew(path: String, found: Int, supported: Int)
    case sqlite(code: Int32, message: String, path: String)
    case notFound(kind: String, name: String)
    case alreadyExists(kind: String, name: String)
    case invalid(String)
    case conflict(String)

    public var description: String {
        switch self {
        case let .noDatabase(path):
            return "no database at \(path) (create one with `cwauth init`)"
        case let .cannotOpen(path, reason):
            return "cannot open database \(path): \(reason)"
        case let .notACwauthDatabase(path):
            return "\(path) is not a cwauth database"
        case let .schemaTooNew(path, found, supported):
            return "database \(path) has schema version \(found), newer than this build supports (\(supported)); upgrade cwauth"
        case let .sqlite(code, message, path):
            switch code & 0xff {
            case SQLITE_BUSY, SQLITE_LOCKED:
                return "database \(path) is locked by another process (\(message)); try again"
            case SQLITE_NOTADB, SQLITE_CORRUPT:
                return "database \(path) is corrupt or not a database (\(message))"
            case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH:
                return "database \(path) cannot be written (\(message)); check the file and its directory permissions"
            default:
                return "database \(path): \(message)"
            }
        case let .notFound(kind, name):
            return "no \(kind) named \"\(Validation.printable(name))\""
        case let .alreadyExists(kind, name):
            return "\(kind) \"\(Validation.printable(name))\" already exists"
        case let .invalid(message):
            return message
        case let .conflict(message):
            return message
        }
    }

    /// True when a retry later may succeed (another process holds the write lock).
    public var isBusy: Bool {
        if case let .sqlite(code, _, _) = self { return code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }
        return false
    }
}
