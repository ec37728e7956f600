import Foundation

/// Replaces a file so that a reader sees the old content or the new, never a part: a temporary
/// file beside it (mkstemp, so never readable by others before `mode` is set), written and synced,
/// then renamed over it. Every document a command writes with `-o` goes this way, ending in one
/// newline as on standard output (`Output.document`).
enum AtomicFile {
    /// What other programs read (a certificate, a CRL).
    static let publicMode: mode_t = 0o644
    /// What only its owner may read (an export holds password hashes).
    static let privateMode: mode_t = 0o600

    static func write(_ text: String, to path: String, mode: mode_t) throws {
        let url = URL(fileURLWithPath: path)
        var template = Array(url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).XXXXXX").path.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var done = false
        defer {
            if !done { unlink(temporary) }
        }
        let bytes = Array(Output.endingInNewline(text).utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = written == bytes.count && fchmod(fd, mode) == 0 && fsync(fd) == 0
        let reason = String(cString: strerror(errno))
        close(fd)
        guard synced else { throw CLIError("cannot write \(path): \(reason)") }
        guard rename(temporary, path) == 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
        done = true
    }
}
