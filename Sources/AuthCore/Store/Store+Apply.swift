/// `apply` and `export`: the declarative side of the store.
public struct ApplySummary: Sendable, Equatable {
    public var rolesCreated: [String] = []
    public var rolesUpdated: [String] = []
    public var rolesUnchanged: [String] = []
    public var usersCreated: [String] = []
    public var usersUpdated: [String] = []
    public var usersUnchanged: [String] = []

    public var changed: Bool { !(rolesCreated.isEmpty && rolesUpdated.isEmpty && usersCreated.isEmpty && usersUpdated.isEmpty) }
}

extension PolicyDocument {
    /// Checks the whole file before anything is written, naming the offending entry.
    public func validate() throws(StoreError) {
        var roleNames = Set<String>()
        for (i, role) in roles.enumerated() {
            let at = "roles[\(i)]"
            try wrap(at) { () throws(ValidationError) in try Validation.validateRoleName(role.name) }
            guard roleNames.insert(role.name).inserted else { throw .invalid("\(at): role \"\(role.name)\" is listed twice") }
            var seen = Set<String>()
            for (j, p) in role.permissions.enumerated() {
                let pat = "\(at).permissions[\(j)]"
                try wrap(pat) { () throws(ValidationError) in try Validation.validateResource(p.resource) }
                guard seen.insert("\(p.context.rawValue) \(p.resource)").inserted else {
                    throw .invalid("\(pat): resource \"\(p.resource)\" is listed twice for role \"\(role.name)\"")
                }
            }
        }
        var usernames = Set<String>()
        for (i, user) in users.enumerated() {
            let at = "users[\(i)]"
            try wrap(at) { () throws(ValidationError) in
                try Validation.validateUsername(user.username)
                if let prefix = user.publishPrefix { try Validation.validatePublishPrefix(prefix) }
            }
            guard usernames.insert(user.username).inserted else { throw .invalid("\(at): user \"\(user.username)\" is listed twice") }
            if user.password != nil && user.passwordHash != nil {
                throw .invalid("\(at): give either password or passwordHash, not both")
            }
            if user.authMethod == .certificate && (user.password != nil || user.passwordHash != nil) {
                throw .invalid("\(at): a certificate user (authMethod: certificate) logs in without a password: give neither password nor passwordHash")
            }
            if let password = user.password {
                try wrap(at) { () throws(ValidationError) in try Validation.validatePassword(password) }
            }
            if let hash = user.passwordHash {
                do { _ = try PasswordHash(parsing: hash) } catch { throw .invalid("\(at): invalid passwordHash: \(error.description)") }
            }
        }
    }

    private func wrap(_ at: String, _ body: () throws(ValidationError) -> Void) throws(StoreError) {
        do { try body() } catch { throw .invalid("\(at): \(error.description)") }
    }
}

extension Store {
    /// Makes the listed roles and users exactly as the file says, in one transaction: all or nothing.
    /// Entities not in the file are left alone. Applying the same file again writes nothing.
    ///
    /// With `dryRun`, the same changes are made in a transaction that is then rolled back, so the summary
    /// is what applying would do — found by the very code that applies, refusals included — and nothing
    /// is written (the database file, its policy counter and the audit log stay as they were).
    public func apply(_ document: PolicyDocument, dryRun: Bool = false,
                      now: Int64 = Clock.unixNow()) throws(StoreError) -> ApplySummary {
        try document.validate()
        if dryRun { return try rolledBack { () throws(StoreError) -> ApplySummary in try applyChanges(document, now: now) } }
        return try write { () throws(StoreError) -> ApplySummary in try applyChanges(document, now: now) }
    }

    /// `body` in a write transaction that always ends in ROLLBACK, held to the rule every committed write
    /// transaction is held to (`guardedWriteTransaction`): a change that would leave no admin is refused.
    private func rolledBack<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try db.execute("BEGIN IMMEDIATE")
        defer { try? db.execute("ROLLBACK") }
        let admins = try adminUsernames()
        let value = try body()
        if !admins.isEmpty, try adminUsernames().isEmpty { throw .conflict(Self.lastAdminMessage(admins)) }
        return value
    }

    /// The changes themselves, inside the caller's transaction.
    private func applyChanges(_ document: PolicyDocument, now: Int64) throws(StoreError) -> ApplySummary {
        var summary = ApplySummary()
        for spec in document.roles { try applyRole(spec, now: now, summary: &summary) }
        for (i, spec) in document.users.enumerated() { try applyUser(spec, index: i, now: now, summary: &summary) }
        if summary.changed {
            try audit("apply", subject: "document", detail: """
                roles +\(summary.rolesCreated.count) ~\(summary.rolesUpdated.count) \
                users +\(summary.usersCreated.count) ~\(summary.usersUpdated.count)
                """, at: now)
        }
        return summary
    }

    private func applyRole(_ spec: RoleSpec, now: Int64, summary: inout ApplySummary) throws(StoreError) {
        let wanted = spec.permissions
        guard let existing = try role(named: spec.name) else {
            try addRole(spec.name, now: now)
            if let id = try roleID(spec.name) { try replacePermissions(roleID: id, wanted) }
            summary.rolesCreated.append(spec.name)
            return
        }
        if Set(existing.permissions) == Set(wanted) {
            summary.rolesUnchanged.append(spec.name)
            return
        }
        guard let id = try roleID(spec.name) else { throw .notFound(kind: "role", name: spec.name) }
        try replacePermissions(roleID: id, wanted)
        try touchRole(id, now: now)
        try audit("role.replace", subject: spec.name, detail: "permissions=\(wanted.count)", at: now)
        summary.rolesUpdated.append(spec.name)
    }

    private func applyUser(_ spec: UserSpec, index: Int, now: Int64, summary: inout ApplySummary) throws(StoreError) {
        for role in spec.roles where try roleID(role) == nil {
            throw .invalid("users[\(index)]: role \"\(role)\" does not exist and is not in the file")
        }
        guard let existing = try user(named: spec.username) else {
            let hash: String
            if let given = spec.passwordHash {
                hash = given
            } else if let password = spec.password {
                hash = PasswordHash.make(password: password).encoded
            } else if spec.authMethod == .certificate {
                hash = ""
            } else {
                throw .invalid("users[\(index)]: new user \"\(spec.username)\" needs password or passwordHash")
            }
            try addUser(User(username: spec.username, passwordHash: hash, enabled: spec.enabled, roles: spec.roles,
                             publishPrefix: spec.publishPrefix, origin: .apply, authMethod: spec.authMethod ?? .password), now: now)
            summary.usersCreated.append(spec.username)
            return
        }
        var newHash = existing.passwordHash
        if let given = spec.passwordHash {
            newHash = given
        } else if let password = spec.password,
                  (try? PasswordHash(parsing: existing.passwordHash))?.verify(password) != true {
            // Re-hash only when the password really changed, so re-applying a file is a no-op.
            newHash = PasswordHash.make(password: password).encoded
        }
        let wantedRoles = Set(spec.roles).sorted()
        // Only a document that says so turns a password user into a certificate user; going back to
        // passwords is `cwauth user passwd`, which needs a real password.
        if spec.authMethod == .certificate && existing.authMethod != .certificate {
            try setAuthMethod(spec.username, .certificate, now: now)
        }
        if newHash == existing.passwordHash && spec.enabled == existing.enabled && wantedRoles == existing.roles
            && spec.publishPrefix == existing.publishPrefix {
            summary.usersUnchanged.append(spec.username)
            return
        }
        guard let id = try userID(spec.username) else { throw .notFound(kind: "user", name: spec.username) }
        try db.prepare("UPDATE users SET password_hash = ?, enabled = ?, publish_prefix = ?, updated_at = ? WHERE id = ?")
            .bind(.text(newHash), .bool(spec.enabled), .optional(spec.publishPrefix), .int(now), .int(id)).run()
        try db.prepare("DELETE FROM user_roles WHERE user_id = ?").bind(.int(id)).run()
        for role in wantedRoles { try linkRole(userID: id, role: role) }
        try audit("user.replace", subject: spec.username, detail: "roles=\(wantedRoles.joined(separator: ","))", at: now)
        summary.usersUpdated.append(spec.username)
    }

    /// The whole store as a re-appliable document: hashes, never clear passwords.
    public func export() throws(StoreError) -> PolicyDocument {
        let policy = try loadPolicy()
        return PolicyDocument(
            roles: policy.roles.map { role in
                RoleSpec(name: role.name, permissions: role.permissions)
            },
            users: policy.users.map { user in
                // A certificate user's password hash (kept from its registration, never checked by the
                // broker) stays out: the document re-creates the user without one.
                user.authMethod == .certificate
                    ? UserSpec(username: user.username, roles: user.roles, enabled: user.enabled,
                               publishPrefix: user.publishPrefix, authMethod: .certificate)
                    : UserSpec(username: user.username, passwordHash: user.passwordHash, roles: user.roles,
                               enabled: user.enabled, publishPrefix: user.publishPrefix)
            })
    }
}
