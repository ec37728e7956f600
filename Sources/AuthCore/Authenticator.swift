/// Result of checking a username and password against a snapshot.
public enum AuthDecision: Equatable, Sendable {
    case allowed
    case wrongPassword
    case userDisabled
    case unknownUser
    /// Refused without hashing: too many recent failures (see `PasswordThrottle`).
    case throttled(PasswordThrottle.Scope, retryAfterNanos: UInt64)
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

    public init(ttlSeconds: Int, capacity: Int = 100_000, throttle: PasswordThrottle.Limits = .init()) {
        self.ttlNanos = UInt64(max(0, ttlSeconds)) * 1_000_000_000
        self.capacity = capacity
        self.key = Crypto.randomBytes(32)
        self.throttle = PasswordThrottle(limits: throttle)
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
        hashVerifications += 1
        guard hash.verify(password) else {
            rememberFailure(username, digest, user.encodedHash, now)
            lastBackoffs = throttle.recordFailure(username: username, address: address, now: now)
            return .wrongPassword
        }
        failures[username] = nil
        throttle.recordSuccess(username: username, address: address, now: now)
        guard user.enabled else { return .userDisabled }
        remember(username, Entry(digest: digest, encodedHash: user.encodedHash, expiresAt: now &+ ttlNanos))
        return .allowed
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
