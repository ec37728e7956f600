import AuthCore
import Foundation
import MallocInterposerSwift

/// One line of `checks.tsv`: username, client id, topic, access, expected decision.
struct CheckCase {
    let username: String
    let clientId: String
    let topic: String
    let access: Access
    let expected: Bool
}

/// The same check with its UTF-8 bytes in buffers that stay put for the life of the process, so
/// the timed loop passes pointers only and allocates nothing of its own.
struct ByteCheck {
    let username: UnsafeBufferPointer<UInt8>
    let clientId: UnsafeBufferPointer<UInt8>
    let topic: UnsafeBufferPointer<UInt8>
    let access: Access
    let expected: Bool
}

enum FixtureError: Error, CustomStringConvertible {
    case missing(String)
    case badLine(Int, String)
    case mismatch(String)

    var description: String {
        switch self {
        case let .missing(what): return "missing: \(what)"
        case let .badLine(n, line): return "checks.tsv line \(n): cannot parse \(line.debugDescription)"
        case let .mismatch(what): return "CORRECTNESS MISMATCH: \(what)"
        }
    }
}

/// A generated policy directory (`Benchmarks/policy/gen_policy.py` output) loaded into AuthCore.
final class Fixture: @unchecked Sendable {
    let name: String
    let directory: URL
    let policy: Policy
    /// Permissions in the policy (meta.json `total_permissions`, cross-checked against the document).
    let rules: Int
    let checks: [CheckCase]
    let byteChecks: ContiguousArray<ByteCheck>
    let decodeSeconds: Double

    init(name: String, directory: URL) throws {
        self.name = name
        self.directory = directory
        let policyURL = directory.appendingPathComponent("cwauth.json")
        let checksURL = directory.appendingPathComponent("checks.tsv")
        guard FileManager.default.fileExists(atPath: policyURL.path) else { throw FixtureError.missing(policyURL.path) }
        guard FileManager.default.fileExists(atPath: checksURL.path) else { throw FixtureError.missing(checksURL.path) }

        let t0 = monotonicNanos()
        let document = try JSONDecoder().decode(PolicyDocument.self, from: Data(contentsOf: policyURL))
        let roles = document.roles.map { spec in
            Role(name: spec.name, permissions: spec.permissions.map {
                Permission(resource: $0.resource, operation: $0.operation, context: $0.context)
            })
        }
        let users = document.users.map { spec in
            User(username: spec.username, passwordHash: spec.passwordHash ?? "", enabled: spec.enabled,
                 roles: spec.roles, publishPrefix: spec.publishPrefix, origin: .apply)
        }
        self.policy = Policy(users: users, roles: roles, registry: RegistryWindow(openUntil: 0))
        self.decodeSeconds = Double(monotonicNanos() - t0) / 1e9
        self.rules = roles.reduce(0) { $0 + $1.permissions.count }

        var checks: [CheckCase] = []
        let text = try String(contentsOf: checksURL, encoding: .utf8)
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 5, let access = Access(rawValue: String(f[3])), f[4] == "allow" || f[4] == "deny" else {
                throw FixtureError.badLine(i + 1, String(line))
            }
            checks.append(CheckCase(username: String(f[0]), clientId: String(f[1]), topic: String(f[2]),
                                    access: access, expected: f[4] == "allow"))
        }
        guard !checks.isEmpty else { throw FixtureError.missing("checks in \(checksURL.path)") }
        self.checks = checks

        // One arena for all bytes; never freed (the process exists for this benchmark only).
        let total = checks.reduce(0) { $0 + $1.username.utf8.count + $1.clientId.utf8.count + $1.topic.utf8.count }
        let arena = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(total, 1))
        var offset = 0
        func place(_ s: String) -> UnsafeBufferPointer<UInt8> {
            let start = offset
            for b in s.utf8 { arena[offset] = b; offset += 1 }
            return UnsafeBufferPointer(rebasing: arena[start ..< offset])
        }
        var bytes = ContiguousArray<ByteCheck>()
        bytes.reserveCapacity(checks.count)
        for c in checks {
            bytes.append(ByteCheck(username: place(c.username), clientId: place(c.clientId), topic: place(c.topic),
                                   access: c.access, expected: c.expected))
        }
        self.byteChecks = bytes
    }

    var metaTotalPermissions: Int? {
        let url = directory.appendingPathComponent("meta.json")
        guard let data = try? Data(contentsOf: url),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return obj["total_permissions"] as? Int
    }
}

func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Heap accounting through the malloc interposer the Benchmark package already loads
/// (requested bytes, no allocator overhead).
enum Heap {
    struct Reading {
        let mallocs: Int
        let liveBytes: Int
    }

    static func read() -> Reading {
        let s = MallocInterposerSwift.getStatistics()
        return Reading(mallocs: s.mallocCount, liveBytes: s.mallocBytesCount - s.freeBytesCount)
    }

    /// Runs `body` with counting on and returns (mallocs, net live bytes) it caused.
    static func measure<T>(_ body: () throws -> T) rethrows -> (result: T, mallocs: Int, liveBytes: Int) {
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
        let before = read()
        let result = try body()
        let after = read()
        MallocInterposerSwift.unhook()
        return (result, after.mallocs - before.mallocs, after.liveBytes - before.liveBytes)
    }
}

/// Facts the percentile table cannot carry (exact totals, build memory) go to
/// `$CWAUTH_BENCH_OUT/<benchmark>.facts` as `key=value` lines for run.sh.
func writeFacts(_ benchmark: String, _ facts: [(String, String)]) {
    let line = facts.map { "\($0.0)=\($0.1)" }.joined(separator: "\n") + "\n"
    FileHandle.standardError.write(Data("[\(benchmark)] \(facts.map { "\($0.0)=\($0.1)" }.joined(separator: " "))\n".utf8))
    guard let dir = ProcessInfo.processInfo.environment["CWAUTH_BENCH_OUT"], !dir.isEmpty else { return }
    let file = URL(fileURLWithPath: dir).appendingPathComponent(benchmark.replacingOccurrences(of: " ", with: "_") + ".facts")
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try? Data(line.utf8).write(to: file)
}
