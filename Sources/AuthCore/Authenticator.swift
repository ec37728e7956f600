/// Result of checking a username and password against a snapshot.
public enum AuthDecision: Equatable, Sendable {
    case allowed
    case wrongPassword
    case userDisabled
    case unknownUser
}

/// Password checks with a cache of recent successes, so a reconnect storm does not re-run PBKDF2
/// on the broker's only thread. The cache holds a keyed digest of the password (HMAC with a
/// per-process random key), never the password, and an entry dies with its TTL or as soon as the
/// user's stored hash changes.
public final class Authenticator {
    struct Entry {
        let digest: [UInt8]
        let encodedHash: String
        let expiresAt: UInt64
    }

    public let ttlNanos: UInt64
    public let capacity: Int
    private let key: [UInt8]
    private var entries: [String: Entry] = [:]
    public private(set) var hashVerifications = 0
    public private(set) var cacheHits = 0

    public init(ttlSeconds: Int, capacity: Int = 100_000) {
        self.ttlNanos = UInt64(max(0, ttlSeconds)) * 1_000_000_000
        self.capacity = capacity
        self.key = Crypto.randomBytes(32)
    }

    public func authenticate(_ snapshot: Snapshot, username: String, password: String,
                             now: UInt64 = Clock.monotonicNanos()) -> AuthDecision {
        guard let user = snapshot.user(username) else { return .unknownUser }
        guard let hash = user.passwordHash else { return .wrongPassword }
        let digest = self.digest(username: username, password: password)
        if ttlNanos > 0, let cached = entries[username], cached.expiresAt > now,
           cached.encodedHash == user.encodedHash, Crypto.constantTimeEqual(cached.digest, digest) {
            cacheHits += 1
            return user.enabled ? .allowed : .userDisabled
        }
        hashVerifications += 1
        guard hash.verify(password) else { return .wrongPassword }
        guard user.enabled else { return .userDisabled }
        remember(username, Entry(digest: digest, encodedHash: user.encodedHash, expiresAt: now &+ ttlNanos))
        return .allowed
    }

    /// Drops every cached success (e.g. on broker reload).
    public func clear() { entries.removeAll(keepingCapacity: true) }

    private func remember(_ username: String, _ entry: Entry) {
        guard ttlNanos > 0 else { return }
        if entries.count >= capacity, entries[username] == nil {
            // Bounded memory under a storm of distinct users: dropping everything is cheap and safe.
            entries.removeAll(keepingCapacity: true)
        }
        entries[username] = entry
    }

    private func digest(username: String, password: String) -> [UInt8] {
        var message = Array(username.utf8)
        message.append(0)
        message.append(contentsOf: password.utf8)
        return message.withUnsafeBytes { Crypto.hmacSHA256(key: key, message: $0) }
    }
}
