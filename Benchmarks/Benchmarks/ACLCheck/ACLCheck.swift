// ACL hot-path benchmarks (ordo-one/benchmark). Per generated policy directory NAME:
//
//   check NAME      Snapshot.brokerAllows on prepared UTF-8 buffers: the broker's hot path
//   reference NAME  Snapshot.decide(...).isAllowed, the plain try-every-permission matcher
//   build NAME      Snapshot(policy:) build time; heap bytes of one snapshot in the facts file
//
// Each benchmark runs in its own process (the framework's rule). Its setup loads the policy
// from cwauth.json, builds the snapshot and checks every line of checks.tsv against `expected`
// with every API; one mismatch ends the process with status 1 and nothing is timed.
//
// Environment:
//   CWAUTH_BENCH_DATA      folder holding one sub-folder per policy (default: <package>/.data)
//   CWAUTH_BENCH_POLICIES  comma-separated sub-folder names (default: every one with cwauth.json)
//   CWAUTH_BENCH_OUT       where the .facts files go (exact allocation totals, build memory)
//   CWAUTH_BENCH_SECONDS   time budget of each check benchmark (default 2)
//   CWAUTH_BENCH_BATCH     checks per timed sample of "check NAME" (default 16)
//
import AuthCore
import Benchmark
import Foundation

/// State of the one benchmark this process runs (set in setup, read by the timed closure).
final class Current: @unchecked Sendable {
    nonisolated(unsafe) static var fixture: Fixture!
    nonisolated(unsafe) static var snapshot: Snapshot!
    nonisolated(unsafe) static var cursor = 0
}

let checkAPI = "brokerAllows(bytes)"
let verifiedAPIs = "decide, brokerAllows(bytes), brokerAllows(String)"

func dataDirectory() -> URL {
    if let d = ProcessInfo.processInfo.environment["CWAUTH_BENCH_DATA"], !d.isEmpty {
        return URL(fileURLWithPath: d)
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".data")
}

func policyNames() -> [String] {
    if let list = ProcessInfo.processInfo.environment["CWAUTH_BENCH_POLICIES"], !list.isEmpty {
        return list.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
    }
    let dir = dataDirectory()
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return names.filter {
        FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).appendingPathComponent("cwauth.json").path)
    }.sorted()
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ACLCheck: \(message)\n".utf8))
    exit(1)
}

/// Loads the policy, builds the snapshot, verifies every check with every API.
func prepare(_ name: String, benchmark: String) -> (Fixture, Snapshot) {
    let fixture: Fixture
    do { fixture = try Fixture(name: name, directory: dataDirectory().appendingPathComponent(name)) } catch {
        fail("\(benchmark): cannot load policy \(name): \(error)")
    }
    if let meta = fixture.metaTotalPermissions, meta != fixture.rules {
        fail("\(benchmark): cwauth.json has \(fixture.rules) permissions, meta.json says \(meta)")
    }
    let t0 = monotonicNanos()
    let snapshot = Snapshot(policy: fixture.policy)
    let buildMs = Double(monotonicNanos() - t0) / 1e6

    var mismatches = 0
    for (i, c) in fixture.checks.enumerated() {
        let reference = snapshot.decide(username: c.username, clientId: c.clientId, topic: c.topic, access: c.access).isAllowed
        var got: [(String, Bool)] = [("decide", reference)]
        let b = fixture.byteChecks[i]
        got.append(("brokerAllows(bytes)", snapshot.brokerAllows(username: b.username, clientId: b.clientId,
                                                                 topic: b.topic, access: b.access)))
        got.append(("brokerAllows(String)", snapshot.brokerAllows(username: c.username, clientId: c.clientId,
                                                                  topic: c.topic, access: c.access)))
        for (api, allowed) in got where allowed != c.expected {
            mismatches += 1
            if mismatches <= 10 {
                FileHandle.standardError.write(Data(
                    "MISMATCH \(name) checks.tsv:\(i + 1) \(api): \(c.username) \(c.clientId) \(c.topic) \(c.access.rawValue) expected \(c.expected ? "allow" : "deny"), got \(allowed ? "allow" : "deny")\n".utf8))
            }
        }
    }
    if mismatches > 0 { fail("\(benchmark): \(mismatches) decisions differ from checks.tsv; nothing timed") }
    FileHandle.standardError.write(Data(
        "[\(benchmark)] \(name): \(fixture.rules) rules, \(fixture.policy.users.count) users, \(fixture.checks.count) checks all correct with \(verifiedAPIs); decode \(String(format: "%.2f", fixture.decodeSeconds)) s, build \(String(format: "%.1f", buildMs)) ms\n".utf8))
    return (fixture, snapshot)
}

@inline(__always)
func runBytes(_ snapshot: Snapshot, _ checks: UnsafeBufferPointer<ByteCheck>, from start: Int, count: Int) -> Int {
    var i = start
    var allowed = 0
    for _ in 0 ..< count {
        let c = checks[i]
        if snapshot.brokerAllows(username: c.username, clientId: c.clientId, topic: c.topic, access: c.access) { allowed &+= 1 }
        i &+= 1
        if i == checks.count { i = 0 }
    }
    return allowed
}

@inline(__always)
func runReference(_ snapshot: Snapshot, _ checks: [CheckCase], from start: Int, count: Int) -> Int {
    var i = start
    var allowed = 0
    for _ in 0 ..< count {
        let c = checks[i]
        if snapshot.decide(username: c.username, clientId: c.clientId, topic: c.topic, access: c.access).isAllowed { allowed &+= 1 }
        i &+= 1
        if i == checks.count { i = 0 }
    }
    return allowed
}

let benchmarks: @Sendable () -> Void = {
    let env = ProcessInfo.processInfo.environment
    let seconds = Int(env["CWAUTH_BENCH_SECONDS"] ?? "") ?? 2
    // One sample = `batch` consecutive checks from the list (wrapping), timed as a whole, like
    // acl_bench's 16-check batches; run.sh divides the percentiles by `batch` (in the facts).
    let batch = max(1, Int(env["CWAUTH_BENCH_BATCH"] ?? "") ?? 16)
    let checkConfig = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 1000,
        scalingFactor: .one,
        maxDuration: .seconds(seconds),
        maxIterations: 2_000_000
    )
    // The reference matcher costs microseconds: one check per sample.
    let referenceConfig = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 100,
        scalingFactor: .one,
        maxDuration: .seconds(seconds),
        maxIterations: 2_000_000
    )

    for name in policyNames() {
        let checkName = "check \(name)"
        Benchmark(checkName, configuration: checkConfig, closure: { _ in
            let snapshot = Current.snapshot!
            let n = batch
            let allowed = Current.fixture.byteChecks.withUnsafeBufferPointer { runBytes(snapshot, $0, from: Current.cursor, count: n) }
            blackHole(allowed)
            Current.cursor = (Current.cursor + n) % Current.fixture.checks.count
        }, setup: {
            let (fixture, snapshot) = prepare(name, benchmark: checkName)
            Current.fixture = fixture
            Current.snapshot = snapshot
            // Exact allocation total over full passes of the list (after one warm pass).
            let total = fixture.checks.count
            _ = fixture.byteChecks.withUnsafeBufferPointer { runBytes(snapshot, $0, from: 0, count: total) }
            let m = Heap.measure { fixture.byteChecks.withUnsafeBufferPointer { runBytes(snapshot, $0, from: 0, count: 4 * total) } }
            var facts: [(String, String)] = [
                ("policy", name), ("rules", "\(fixture.rules)"), ("checks", "\(total)"), ("correct", "yes"),
                ("batch", "\(batch)"), ("api", checkAPI.replacingOccurrences(of: " ", with: "_")),
                ("counted_checks", "\(4 * total)"), ("allocs_total", "\(m.mallocs)"),
                ("allocs_per_check", String(format: "%.4f", Double(m.mallocs) / Double(4 * total))),
            ]
            facts.append(("acl_memory_bytes", "\(snapshot.aclMemoryBytes)"))
            writeFacts(checkName, facts)
        })

        let referenceName = "reference \(name)"
        Benchmark(referenceName, configuration: referenceConfig, closure: { _ in
            let n = 1
            blackHole(runReference(Current.snapshot!, Current.fixture.checks, from: Current.cursor, count: n))
            Current.cursor = (Current.cursor + n) % Current.fixture.checks.count
        }, setup: {
            let (fixture, snapshot) = prepare(name, benchmark: referenceName)
            Current.fixture = fixture
            Current.snapshot = snapshot
            let total = fixture.checks.count
            _ = runReference(snapshot, fixture.checks, from: 0, count: total)
            let m = Heap.measure { runReference(snapshot, fixture.checks, from: 0, count: total) }
            writeFacts(referenceName, [
                ("policy", name), ("rules", "\(fixture.rules)"), ("checks", "\(total)"), ("correct", "yes"),
                ("batch", "1"), ("counted_checks", "\(total)"), ("allocs_total", "\(m.mallocs)"),
                ("allocs_per_check", String(format: "%.4f", Double(m.mallocs) / Double(total))),
            ])
        })

        let buildName = "build \(name)"
        Benchmark(buildName, configuration: .init(
            metrics: [.wallClock, .mallocCountTotal],
            timeUnits: .microseconds,
            warmupIterations: 1,
            scalingFactor: .one,
            maxDuration: .seconds(seconds * 3),
            maxIterations: 50
        ), closure: { benchmark in
            let policy = Current.fixture.policy
            benchmark.startMeasurement()
            let snapshot = Snapshot(policy: policy)
            benchmark.stopMeasurement()
            blackHole(snapshot) // released after the measured region
        }, setup: {
            let (fixture, _) = prepare(name, benchmark: buildName)
            Current.fixture = fixture
            // Memory held by one live snapshot: requested bytes allocated minus freed during the build,
            // plus the large compiled arrays, which live in mappings of their own (2 MB pages).
            let m = Heap.measure { Snapshot(policy: fixture.policy) }
            let mapped = m.result.aclMappedBytes
            let held = m.liveBytes + mapped
            var facts: [(String, String)] = [
                ("policy", name), ("rules", "\(fixture.rules)"), ("users", "\(fixture.policy.users.count)"),
                ("correct", "yes"), ("decode_s", String(format: "%.3f", fixture.decodeSeconds)),
                ("snapshot_heap_bytes", "\(m.liveBytes)"), ("snapshot_mapped_bytes", "\(mapped)"),
                ("snapshot_bytes", "\(held)"), ("snapshot_mallocs", "\(m.mallocs)"),
            ]
            facts.append(("acl_memory_bytes", "\(m.result.aclMemoryBytes)"))
            facts.append(("acl_bytes_per_rule", String(format: "%.1f", Double(m.result.aclMemoryBytes) / Double(max(fixture.rules, 1)))))
            blackHole(m.result)
            writeFacts(buildName, facts)
        })
    }
}
