#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import AuthCore

/// A private folder under /tmp for one test's database files, removed (with everything in it) when
/// the last reference goes. Tests run in parallel, so every test gets its own.
final class TemporaryDirectory {
    let path: String

    init() {
        var template = Array("/tmp/cwauth-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: errno \(errno)")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { Self.removeTree(path) }

    /// `name` inside the folder (not created).
    func file(_ name: String) -> String { "\(path)/\(name)" }

    /// The usual database location of a test.
    var database: String { file("cwauth.db") }

    private static func removeTree(_ path: String) {
        guard let dir = opendir(path) else { return }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            let child = "\(path)/\(name)"
            var st = stat()
            if lstat(child, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                removeTree(child)
            } else {
                unlink(child)
            }
        }
        closedir(dir)
        rmdir(path)
    }
}

enum Files {
    /// The whole file, or nil when it cannot be read (missing).
    static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return bytes
    }

    static func write(_ path: String, _ bytes: [UInt8]) {
        guard let file = fopen(path, "wb") else {
            Issue.record("cannot write \(path): errno \(errno)")
            return
        }
        _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Whether the file holds exactly `expected`; says where it differs instead of dumping both.
    static func unchanged(_ path: String, from expected: [UInt8]?,
                          sourceLocation: SourceLocation = #_sourceLocation) {
        let actual = read(path)
        guard actual != expected else { return }
        guard let actual, let expected else {
            Issue.record("\(path): existed before: \(expected != nil), exists now: \(actual != nil)", sourceLocation: sourceLocation)
            return
        }
        let firstDifference = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        Issue.record("\(path) changed: \(expected.count) → \(actual.count) bytes, first difference at byte \(firstDifference ?? min(actual.count, expected.count))",
                     sourceLocation: sourceLocation)
    }

    /// Removes the database and its WAL companions, as an operator deleting "the file" would.
    static func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
    }
}

/// Cheap hashes: these tests are about the store, not about PBKDF2's cost.
enum TestHash {
    static func make(_ password: String) -> String {
        PasswordHash.make(password: password, iterations: 1000).encoded
    }
}

/// A fresh, initialised database in its own folder. Keep the fixture alive as long as the store is used.
final class TestDatabase {
    let directory = TemporaryDirectory()
    let store: Store

    init(actor: String = "test:unit") throws {
        store = try Store.initialize(path: directory.database, actor: actor).store
    }

    var path: String { directory.database }

    /// A second, independent connection (another process in real life: the CLI beside the broker).
    func connect(actor: String = "test:other", busyTimeoutMs: Int32 = 5000) throws -> Store {
        try Store(path: path, actor: actor, busyTimeoutMs: busyTimeoutMs)
    }

    /// Rows of the audit log, oldest first.
    func audit() throws -> [AuditEntry] {
        try store.auditLog(limit: 10_000).reversed()
    }
}

/// The error a throwing call produced, or nil when it did not throw (so a test can compare it).
func storeError<T>(_ body: () throws(StoreError) -> T) -> StoreError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
