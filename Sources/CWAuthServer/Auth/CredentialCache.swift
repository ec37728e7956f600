import AuthCore

/// Password checks for Basic auth and logins. A script sending Basic credentials on every call would
/// otherwise pay a PBKDF2 run per request; like the plugin's Authenticator, successes are remembered as
/// a keyed digest (never the password) and only while the stored hash is unchanged.
actor CredentialCache {
    private struct Entry {
        let digest: [UInt8]
        let encodedHash: String
        let expiresAt: UInt64
    }

    private let ttlNanos: UInt64
    private let key = Crypto.randomBytes(32)
    private var entries: [String: Entry] = [:]
    private let capacity = 10_000
    private(set) var hashVerifications = 0

    init(ttlSeconds: Int = 60) {
        ttlNanos = UInt64(max(0, ttlSeconds)) * 1_000_000_000
    }

    /// Whether `password` matches `encodedHash`. A hash that does not parse never matches.
    func verify(username: String, password: String, encodedHash: String, now: UInt64 = Clock.monotonicNanos()) -> Bool {
        let digest = digest(username: username, password: password)
        if let cached = entries[username], cached.expiresAt > now, cached.encodedHash == encodedHash,
           Crypto.constantTimeEqual(cached.digest, digest) {
            return true
        }
        hashVerifications += 1
        guard let hash = try? PasswordHash(parsing: encodedHash), hash.verify(password) else { return false }
        if ttlNanos > 0 {
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[username] = Entry(digest: digest, encodedHash: encodedHash, expiresAt: now &+ ttlNanos)
        }
        return true
    }

    /// Spends the same work as a real check, so an unknown username does not answer faster than a known one.
    func verifyDummy(password: String) -> Bool {
        hashVerifications += 1
        return Self.dummyHash.verify(password) && false
    }

    private static let dummyHash = PasswordHash.make(password: "cwauth-no-such-user")

    private func digest(username: String, password: String) -> [UInt8] {
        var message = Array(username.utf8)
        message.append(0)
        message.append(contentsOf: password.utf8)
        return message.withUnsafeBytes { Crypto.hmacSHA256(key: key, message: $0) }
    }
}
