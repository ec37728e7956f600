import AuthCore

/// Bearer tokens and browser sessions, in memory: a restart of `cwauth serve` logs everyone out, which
/// is the safe direction. Tokens are 256 random bits; a session also carries the CSRF token its page
/// must echo in X-CSRF-Token on every state-changing request.
actor Sessions {
    enum Kind: Sendable { case bearer, cookie }

    struct Session: Sendable {
        let username: String
        /// The user's stored hash at login: a session ends when the password changes (anywhere:
        /// the API, the CLI, an `apply`), as a broker client is kicked then.
        let passwordHash: String
        let kind: Kind
        let csrfToken: String
        let expiresAt: Int64
    }

    static let lifetimeSeconds: Int64 = 8 * 3600
    static let cookieName = "cwauth_session"
    private let capacity: Int
    private var sessions: [String: Session] = [:]

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func create(username: String, passwordHash: String, kind: Kind, now: Int64 = Clock.unixNow()) -> (token: String, session: Session) {
        if sessions.count >= capacity { evict(now: now) }
        let token = Self.randomToken()
        let session = Session(username: username, passwordHash: passwordHash, kind: kind, csrfToken: Self.randomToken(),
                              expiresAt: now + Self.lifetimeSeconds)
        sessions[token] = session
        return (token, session)
    }

    /// The live session for `token` of the given kind; a cookie is never accepted as a bearer token or vice versa.
    func lookup(_ token: String, kind: Kind, now: Int64 = Clock.unixNow()) -> Session? {
        guard let session = sessions[token], session.kind == kind else { return nil }
        guard session.expiresAt > now else {
            sessions[token] = nil
            return nil
        }
        return session
    }

    func revoke(_ token: String) {
        sessions[token] = nil
    }

    /// Drops every session of a user (disabled, deleted): their tokens stop working at once.
    func revokeAll(of username: String) {
        sessions = sessions.filter { $0.value.username != username }
    }

    var count: Int { sessions.count }

    private func evict(now: Int64) {
        sessions = sessions.filter { $0.value.expiresAt > now }
        // Still full: the oldest logins go first (they expire first).
        while sessions.count >= capacity, let oldest = sessions.min(by: { $0.value.expiresAt < $1.value.expiresAt }) {
            sessions[oldest.key] = nil
        }
    }

    static func randomToken() -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in Crypto.randomBytes(32) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
