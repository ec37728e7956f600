import AuthCore
import CSystemLibraries

/// GET /healthz: whether the database behind the server can be read now. Anyone may ask, so the answer
/// says only ok or which kind of trouble — never a path, an SQLite message or a name; the details go
/// to the server's log, once per change.
enum Health {
    struct Report: Sendable, Equatable {
        let schemaVersion: Int
        let policyVersion: Int64
    }

    enum Problem: Error, Equatable, Sendable {
        case missing
        /// Another file is at the path now: the server would go on reading and writing the old one.
        case replaced
        case locked
        case corrupt
        case unreadable

        /// The one line the unauthenticated caller gets.
        var publicMessage: String {
            switch self {
            case .missing: return "database file missing"
            case .replaced: return "database file replaced since cwauth serve opened it: restart cwauth serve"
            case .locked: return "database locked"
            case .corrupt: return "database corrupt or not a cwauth database"
            case .unreadable: return "database unreadable"
            }
        }

        static func from(sqliteCode code: Int32) -> Problem {
            switch code & 0xff {
            case SQLITE_BUSY, SQLITE_LOCKED: return .locked
            // SQLITE_ERROR: a table the schema promises is not there ("no such table").
            case SQLITE_NOTADB, SQLITE_CORRUPT, SQLITE_ERROR, SQLITE_SCHEMA: return .corrupt
            case SQLITE_CANTOPEN: return .missing
            default: return .unreadable
            }
        }

        static func from(_ error: StoreError) -> Problem {
            switch error {
            case .noDatabase: return .missing
            case .notACwauthDatabase, .schemaTooNew: return .corrupt
            case let .sqlite(code, _, _): return from(sqliteCode: code)
            default: return .unreadable
            }
        }
    }

    /// The file at `path` now (AuthCore's `FileIdentity`: device and inode), or why there is none.
    static func fileIdentity(_ path: String) -> Result<FileIdentity, Problem> {
        FileIdentity.of(path).mapError { $0.isMissing ? .missing : .unreadable }
    }

    /// The versions as a fresh read-only reader sees the file now (see `StoreProbe`).
    static func readVersions(path: String, busyTimeoutMs: Int32 = 250) -> Result<Report, ProblemDetail> {
        StoreProbe.versions(path: path, busyTimeoutMs: busyTimeoutMs)
            .map { Report(schemaVersion: $0.schema, policyVersion: $0.policy) }
            .mapError { ProblemDetail(.from(sqliteCode: $0.sqliteCode), $0.message) }
    }

    /// A problem and what the log gets about it.
    struct ProblemDetail: Error, Equatable, Sendable {
        let problem: Problem
        let detail: String
        init(_ problem: Problem, _ detail: String) {
            self.problem = problem
            self.detail = detail
        }
    }
}
