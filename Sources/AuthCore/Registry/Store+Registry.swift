/// The client registry: the registration window, pending requests, allow/deny and the blocklist.
public struct RegistryWindow: Sendable, Equatable {
    /// Unix seconds; the window is open while now < openUntil.
    public var openUntil: Int64

    public init(openUntil: Int64) { self.openUntil = openUntil }

    public func isOpen(at now: Int64 = Clock.unixNow()) -> Bool { now < openUntil }
    public func secondsLeft(at now: Int64 = Clock.unixNow()) -> Int64 { max(0, openUntil - now) }
}

/// What happened to one registration attempt.
public enum RegistrationOutcome: String, Sendable, Equatable {
    case recorded          // new pending request
    case updated           // same username, same password: last seen / attempts bumped
    case conflict          // same username, different password: first hash kept, request flagged
    case windowClosed      // nothing written
    case blocked           // username on the blocklist: nothing written
    case tableFull         // cap reached: nothing written
    case rejected          // username/password too short or invalid: nothing written
    case userExists        // not an unknown user after all: nothing written
}

public struct RegistrationAttempt: Sendable {
    public var username: String
    public var password: String
    public var clientId: String
    public var address: String
    public var requestedRoles: [String]
    public var source: String
    public var requestedContext: String
    /// A CSR already checked by the caller (signature, CN = username), and its public key's fingerprint.
    public var csrPEM: String
    public var csrFingerprint: String

    public init(username: String, password: String, clientId: String = "", address: String = "",
                requestedRoles: [String] = [], source: String = "mqtt", requestedContext: String = "",
                csrPEM: String = "", csrFingerprint: String = "") {
        self.csrPEM = csrPEM
        self.csrFingerprint = csrFingerprint
        self.username = username
        self.password = password
        self.clientId = clientId
        self.address = address
        self.requestedRoles = requestedRoles
        self.source = source
        self.requestedContext = requestedContext
    }
}

extension Store {
    public static let pendingMaxAgeSeconds: Int64 = 24 * 3600
    public static let defaultMaxPending = 1000
    public static let maxWindowMinutes = 60
    /// How long `registry unlock` and POST /api/client-registry/unlock open the window when no duration is given.
    public static let defaultWindowMinutes = 5

    public func registryWindow() throws(StoreError) -> RegistryWindow {
        RegistryWindow(openUntil: try db.prepare("SELECT open_until FROM registry_window WHERE id = 1").stepInt() ?? 0)
    }

    public func unlockRegistry(seconds: Int64, now: Int64 = Clock.unixNow()) throws(StoreError) {
        guard seconds > 0, seconds <= Int64(Self.maxWindowMinutes) * 60 else {
            throw .invalid("the registration window can be opened for 1 second to \(Self.maxWindowMinutes) minutes")
        }
        try write { () throws(StoreError) in
            try db.prepare("UPDATE registry_window SET open_until = ?, changed_by = ?, changed_at = ? WHERE id = 1")
                .bind(.int(now + seconds), .text(actor), .int(now)).run()
            try audit("registry.unlock", subject: "registry", detail: "seconds=\(seconds)", at: now)
        }
    }

    public func lockRegistry(now: Int64 = Clock.unixNow()) throws(StoreError) {
        try write { () throws(StoreError) in
            try db.prepare("UPDATE registry_window SET open_until = 0, changed_by = ?, changed_at = ? WHERE id = 1")
                .bind(.text(actor), .int(now)).run()
            try audit("registry.lock", subject: "registry", at: now)
        }
    }

    /// Pending requests seen within the last 24 h, oldest first.
    public func pendingRequests(now: Int64 = Clock.unixNow()) throws(StoreError) -> [PendingRequest] {
        let stmt = try db.prepare("""
            SELECT username, client_id, address, password_hash, first_seen, last_seen, attempts, conflict,
                   conflict_attempts, requested_roles, source, requested_context, csr_pem, csr_fingerprint
            FROM pending_registrations WHERE last_seen >= ? ORDER BY first_seen, username
            """).bind(.int(now - Self.pendingMaxAgeSeconds))
        var out: [PendingRequest] = []
        while try stmt.step() { out.append(Self.pending(stmt)) }
        return out
    }

    public func pendingRequest(_ username: String, now: Int64 = Clock.unixNow()) throws(StoreError) -> PendingRequest? {
        let stmt = try db.prepare("""
            SELECT username, client_id, address, password_hash, first_seen, last_seen, attempts, conflict,
                   conflict_attempts, requested_roles, source, requested_context, csr_pem, csr_fingerprint
            FROM pending_registrations WHERE username = ? AND last_seen >= ?
            """).bind(.text(username), .int(now - Self.pendingMaxAgeSeconds))
        return try stmt.step() ? Self.pending(stmt) : nil
    }

    /// Deletes requests not seen for 24 h. Returns how many went.
    @discardableResult
    public func purgeStalePending(now: Int64 = Clock.unixNow()) throws(StoreError) -> Int {
        try write { () throws(StoreError) in
            try db.prepare("DELETE FROM pending_registrations WHERE last_seen < ?")
                .bind(.int(now - Self.pendingMaxAgeSeconds)).run()
            let purged = db.changes
            if purged > 0 { try audit("registry.purge", subject: "registry", detail: "purged=\(purged)", at: now) }
            return purged
        }
    }

    /// Records an attempt by an unknown username while the window is open. One short transaction;
    /// nothing is written when the window is closed, the name is blocked or the table is full.
    public func recordRegistration(_ attempt: RegistrationAttempt, maxPending: Int = Store.defaultMaxPending,
                                   iterations: Int = PasswordHash.defaultIterations,
                                   now: Int64 = Clock.unixNow()) throws(StoreError) -> RegistrationOutcome {
        if RegistryGate.whyInvalid(username: attempt.username, password: attempt.password) != nil { return .rejected }
        return try write { () throws(StoreError) -> RegistrationOutcome in
            guard try registryWindow().isOpen(at: now) else { return .windowClosed }
            if try db.prepare("SELECT 1 FROM registry_blocklist WHERE username = ?").bind(.text(attempt.username)).stepInt() != nil {
                return .blocked
            }
            if try userID(attempt.username) != nil { return .userExists }
            if let existing = try pendingRequest(attempt.username, now: now) {
                return try updatePending(existing, attempt, now: now)
            }
            // A stale row (> 24 h) may still occupy the key: replace it as new.
            try db.prepare("DELETE FROM pending_registrations WHERE username = ?").bind(.text(attempt.username)).run()
            let count = try db.scalarInt("SELECT count(*) FROM pending_registrations WHERE last_seen >= \(now - Self.pendingMaxAgeSeconds)") ?? 0
            if count >= Int64(maxPending) { return .tableFull }
            let hash = PasswordHash.make(password: attempt.password, iterations: iterations).encoded
            try db.prepare("""
                INSERT INTO pending_registrations(username, client_id, address, password_hash, first_seen, last_seen,
                    attempts, conflict, conflict_attempts, requested_roles, source, requested_context, csr_pem, csr_fingerprint)
                VALUES (?, ?, ?, ?, ?, ?, 1, 0, 0, ?, ?, ?, ?, ?)
                """).bind(.text(attempt.username), .text(attempt.clientId), .text(attempt.address), .text(hash),
                          .int(now), .int(now), .text(Self.joinRoles(attempt.requestedRoles)),
                          .text(attempt.source), .text(attempt.requestedContext),
                          .text(attempt.csrPEM), .text(attempt.csrFingerprint)).run()
            try audit("registry.request", subject: attempt.username,
                      detail: "source=\(attempt.source) client=\(attempt.clientId) address=\(attempt.address)", at: now)
            return .recorded
        }
    }

    private func updatePending(_ existing: PendingRequest, _ attempt: RegistrationAttempt,
                               now: Int64) throws(StoreError) -> RegistrationOutcome {
        let samePassword = (try? PasswordHash(parsing: existing.passwordHash))?.verify(attempt.password) ?? false
        if samePassword {
            try db.prepare("""
                UPDATE pending_registrations SET last_seen = ?, attempts = attempts + 1, client_id = ?, address = ?
                WHERE username = ?
                """).bind(.int(now), .text(attempt.clientId), .text(attempt.address), .text(attempt.username)).run()
            return .updated
        }
        try db.prepare("""
            UPDATE pending_registrations SET last_seen = ?, attempts = attempts + 1, conflict = 1,
                conflict_attempts = conflict_attempts + 1 WHERE username = ?
            """).bind(.int(now), .text(attempt.username)).run()
        if !existing.conflict {
            try audit("registry.conflict", subject: attempt.username,
                      detail: "different password from client=\(attempt.clientId) address=\(attempt.address)", at: now)
        }
        return .conflict
    }

    /// Admits a pending device: creates the user from the recorded hash, with the given roles only.
    public func allow(_ username: String, roles: [String], force: Bool = false,
                      now: Int64 = Clock.unixNow()) throws(StoreError) -> User {
        try write { () throws(StoreError) -> User in
            guard let request = try pendingRequest(username, now: now) else {
                throw .notFound(kind: "pending registration", name: username)
            }
            if request.conflict && !force {
                throw .conflict("the request for \"\(username)\" is in conflict: \(request.conflictAttempts) attempt(s) used a different password than the first; check the device, then allow with --force to admit the first password")
            }
            let user = User(username: username, passwordHash: request.passwordHash, enabled: true, roles: roles,
                            origin: .registry, createdAt: now, updatedAt: now)
            try addUser(user, now: now)
            try db.prepare("DELETE FROM pending_registrations WHERE username = ?").bind(.text(username)).run()
            try audit("registry.allow", subject: username,
                      detail: "roles=\(roles.sorted().joined(separator: ","))\(force ? " forced" : "")", at: now)
            return try requireUser(username)
        }
    }

    /// Drops a pending request; with `block`, the name is never recorded again until unblocked.
    public func deny(_ username: String, block: Bool = false, now: Int64 = Clock.unixNow()) throws(StoreError) {
        try write { () throws(StoreError) in
            try db.prepare("DELETE FROM pending_registrations WHERE username = ?").bind(.text(username)).run()
            if db.changes == 0 && !block { throw .notFound(kind: "pending registration", name: username) }
            if block {
                try db.prepare("INSERT OR REPLACE INTO registry_blocklist(username, blocked_at, blocked_by) VALUES (?, ?, ?)")
                    .bind(.text(username), .int(now), .text(actor)).run()
            }
            try audit(block ? "registry.deny+block" : "registry.deny", subject: username, at: now)
        }
    }

    public func unblock(_ username: String, now: Int64 = Clock.unixNow()) throws(StoreError) {
        try write { () throws(StoreError) in
            try db.prepare("DELETE FROM registry_blocklist WHERE username = ?").bind(.text(username)).run()
            if db.changes == 0 { throw .notFound(kind: "blocked username", name: username) }
            try audit("registry.unblock", subject: username, at: now)
        }
    }

    public func blockedUsernames() throws(StoreError) -> [String] {
        let stmt = try db.prepare("SELECT username FROM registry_blocklist ORDER BY username")
        var names: [String] = []
        while try stmt.step() { names.append(stmt.text(0)) }
        return names
    }

    static func pending(_ stmt: Statement) -> PendingRequest {
        PendingRequest(username: stmt.text(0), clientId: stmt.text(1), address: stmt.text(2),
                       passwordHash: stmt.text(3), firstSeen: stmt.int64(4), lastSeen: stmt.int64(5),
                       attempts: stmt.int(6), conflict: stmt.bool(7), conflictAttempts: stmt.int(8),
                       requestedRoles: splitRoles(stmt.text(9)), source: stmt.text(10),
                       requestedContext: stmt.text(11), csrPEM: stmt.text(12), csrFingerprint: stmt.text(13))
    }

    // Role names may contain ',' but never whitespace, so a newline separates them unambiguously.
    static func joinRoles(_ roles: [String]) -> String { roles.joined(separator: "\n") }
    static func splitRoles(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }
}
