/// Result of checking a username and password against a snapshot.
public enum AuthDecision: Equatable, Sendable {
    case allowed
    case wrongPassword
    case userDisabled
    case unknownUser
    /// Refused without hashing: too many recent failures (see `PasswordThrottle`).
    case throttled(PasswordThrottle.Scope, retryAfterNanos: UInt64)
    /// The broker thread's hashing budget is spent: verify this off the broker's thread and hand
    /// the outcome to `settle`; the client is answered when it comes back.
    case verifyElsewhere(PasswordCheck)
}

/// One password verification handed to another thread: everything it needs, and what `settle`
/// needs to file the outcome under.
public struct PasswordCheck: Equatable, Sendable {
    public let username: String
    public let password: String
    public let address: String
    let hash: PasswordHash
    let encodedHash: String
    let digest: [UInt8]

    /// Runs PBKDF2: call it off the broker's thread.
    public func verify() -> Bool { hash.verify(password) }
}

/// How much PBKDF2 the broker's own thread may run, in iterations: a steady rate and a burst.
public struct HashBudget: Sendable, Equatable {
    public var iterationsPerSecond: Double
    public var burst: Double

    public init(iterationsPerSecond: Double, burst: Double) {
        self.iterationsPerSecond = iterationsPerSecond
        self.burst = burst
    }

    /// `milliseconds` of hashing per second (and at most that much at once), at this machine's speed.
    public static func milliseconds(_ milliseconds: Int, nanosPerIteration: Double) -> HashBudget {
        let iterations = Double(milliseconds) * 1e6 / max(nanosPerIteration, 1)
        return HashBudget(iterationsPerSecond: iterations, burst: iterations)
    }
}

/// Password checks that keep PBKDF2 off the broker's only thread whenever the answer is already
/// known: a cache of recent successes (reconnect storms), a memory of recent identical failures (a
/// device retrying a stale password), and a throttle on guessing (`PasswordThrottle`). Both caches
/// hold a keyed digest of the password (HMAC with a per-process random key), never the password,
/// and an entry dies with its TTL or as soon as the user's stored hash changes.
public final class Authenticator {
    struct Entry {
        let digest: [UInt8]
        let encodedHash: String
        let expiresAt: UInt64
    }

    /// The last few wrong passwords of one username.
    struct Failures {
        var digests: [[UInt8]]
        let encodedHash: String
        var expiresAt: UInt64
    }

    public let ttlNanos: UInt64
    public let capacity: Int
    /// How long an identical wrong password is answered without hashing it again.
    public static let failureMemoryNanos: UInt64 = 600_000_000_000
    static let failuresPerUser = 4
    private let key: [UInt8]
    private var entries: [String: Entry] = [:]
    private var failures: [String: Failures] = [:]
    public private(set) var throttle: PasswordThrottle
    public private(set) var hashVerifications = 0
    public private(set) var cacheHits = 0
    /// Back-offs started by the last `authenticate` (for the caller's log), empty otherwise.
    public private(set) var lastBackoffs: [PasswordThrottle.BackoffStarted] = []
    /// PBKDF2 iterations the caller's thread may still run; nil: no limit (tools, tests).
    private var budget: TokenBucket?

    public init(ttlSeconds: Int, capacity: Int = 100_000, throttle: PasswordThrottle.Limits = .init(),
                hashBudget: HashBudget? = nil) {
        self.ttlNanos = UInt64(max(0, ttlSeconds)) * 1_000_000_000
        self.capacity = capacity
        self.key = Crypto.randomBytes(32)
        self.throttle = PasswordThrottle(limits: throttle)
        self.budget = hashBudget.map { TokenBucket(perSecond: $0.iterationsPerSecond, burst: $0.burst) }
    }

    public func authenticate(_ snapshot: Snapshot, username: String, password: String, address: String = "",
                             now: UInt64 = Clock.monotonicNanos()) -> AuthDecision {
        lastBackoffs = []
        guard let user = snapshot.user(username) else { return .unknownUser }
        guard let hash = user.passwordHash else { return .wrongPassword }
        let digest = self.digest(username: username, password: password)
        if ttlNanos > 0, let cached = entries[username], cached.expiresAt > now,
           cached.encodedHash == user.encodedHash, Crypto.constantTimeEqual(cached.digest, digest) {
            cacheHits += 1
            return user.enabled ? .allowed : .userDisabled
        }
        if let known = failures[username], known.expiresAt > now, known.encodedHash == user.encodedHash,
           known.digests.contains(where: { Crypto.constantTimeEqual($0, digest) }) {
            return .wrongPassword
        }
        if case let .refuse(scope, wait) = throttle.verdict(username: username, address: address, now: now) {
            return .throttled(scope, retryAfterNanos: wait)
        }
        let check = PasswordCheck(username: username, password: password, address: address, hash: hash,
                                  encodedHash: user.encodedHash, digest: digest)
        if budget != nil, !budget!.take(Double(hash.iterations), now: now) { return .verifyElsewhere(check) }
        hashVerifications += 1
        let verified = hash.verify(password)
        lastBackoffs = file(check, verified: verified, now: now)
        guard verified else { return .wrongPassword }
        return user.enabled ? .allowed : .userDisabled
    }

    /// Files the outcome of a check verified elsewhere, as if it had been verified in place: the
    /// client's next attempt is answered from the cache or the failure memory. Ignored when the
    /// user's stored hash changed meanwhile. Returns the back-offs it started (for the log).
    public func settle(_ check: PasswordCheck, verified: Bool, snapshot: Snapshot,
                       now: UInt64 = Clock.monotonicNanos()) -> [PasswordThrottle.BackoffStarted] {
        guard snapshot.user(check.username)?.encodedHash == check.encodedHash else { return [] }
        return file(check, verified: verified, now: now)
    }

    private func file(_ check: PasswordCheck, verified: Bool, now: UInt64) -> [PasswordThrottle.BackoffStarted] {
        guard verified else {
            rememberFailure(check.username, check.digest, check.encodedHash, now)
            return throttle.recordFailure(username: check.username, address: check.address, now: now)
        }
        failures[check.username] = nil
        throttle.recordSuccess(username: check.username, address: check.address, now: now)
        // Kept for a disabled user too: the cache answers `.userDisabled` without hashing again.
        remember(check.username, Entry(digest: check.digest, encodedHash: check.encodedHash, expiresAt: now &+ ttlNanos))
        return []
    }

    /// Drops every cached success and failure and every back-off (broker reload).
    public func clear() {
        entries.removeAll(keepingCapacity: true)
        failures.removeAll(keepingCapacity: true)
        throttle = PasswordThrottle(limits: throttle.limits)
    }

    /// An admin changed this user (password, enabled, removed): its back-off and trust start over.
    public func forget(username: String) {
        failures[username] = nil
        throttle.forget(username: username)
    }

    private func remember(_ username: String, _ entry: Entry) {
        guard ttlNanos > 0 else { return }
        if entries.count >= capacity, entries[username] == nil {
            // Bounded memory under a storm of distinct users: dropping everything is cheap and safe.
            entries.removeAll(keepingCapacity: true)
        }
        entries[username] = entry
    }

    private func rememberFailure(_ username: String, _ digest: [UInt8], _ encodedHash: String, _ now: UInt64) {
        if failures.count >= capacity, failures[username] == nil { failures.removeAll(keepingCapacity: true) }
        var known = failures[username]
        if known == nil || known!.expiresAt <= now || known!.encodedHash != encodedHash {
            known = Failures(digests: [], encodedHash: encodedHash, expiresAt: 0)
        }
        known!.digests.append(digest)
        if known!.digests.count > Self.failuresPerUser { known!.digests.removeFirst() }
        known!.expiresAt = now &+ Self.failureMemoryNanos
        failures[username] = known
    }

    private func digest(username: String, password: String) -> [UInt8] {
        var message = Array(username.utf8)
        message.append(0)
        message.append(contentsOf: password.utf8)
        return message.withUnsafeBytes { Crypto.hmacSHA256(key: key, message: $0) }
    }
}
