/// Users: CRUD and role membership.
extension Store {
    public func listUsers() throws(StoreError) -> [User] {
        let rolesByUser = try roleNamesByUserID()
        let stmt = try db.prepare("""
            SELECT id, username, password_hash, enabled, publish_prefix, origin, created_at, updated_at, auth_method
            FROM users ORDER BY username
            """)
        var users: [User] = []
        while try stmt.step() {
            users.append(User(username: stmt.text(1), passwordHash: stmt.text(2), enabled: stmt.bool(3),
                              roles: rolesByUser[stmt.int64(0)] ?? [], publishPrefix: stmt.optionalText(4),
                              origin: UserOrigin(rawValue: stmt.text(5)) ?? .manual,
                              createdAt: stmt.int64(6), updatedAt: stmt.int64(7),
                              authMethod: AuthMethod(rawValue: stmt.text(8)) ?? .password))
        }
        return users
    }

    public func user(named username: String) throws(StoreError) -> User? {
        let stmt = try db.prepare("""
            SELECT id, username, password_hash, enabled, publish_prefix, origin, created_at, updated_at, auth_method
            FROM users WHERE username = ?
            """).bind(.text(username))
        guard try stmt.step() else { return nil }
        let roles = try roleNames(ofUserID: stmt.int64(0))
        return User(username: stmt.text(1), passwordHash: stmt.text(2), enabled: stmt.bool(3), roles: roles,
                    publishPrefix: stmt.optionalText(4), origin: UserOrigin(rawValue: stmt.text(5)) ?? .manual,
                    createdAt: stmt.int64(6), updatedAt: stmt.int64(7),
                    authMethod: AuthMethod(rawValue: stmt.text(8)) ?? .password)
    }

    public func requireUser(_ username: String) throws(StoreError) -> User {
        guard let user = try user(named: username) else { throw .notFound(kind: "user", name: username) }
        return user
    }

    /// Creates a user. `passwordHash` must already be a valid Mosquitto-format hash.
    public func addUser(_ user: User, now: Int64 = Clock.unixNow()) throws(StoreError) {
        try validate(user)
        try write { () throws(StoreError) in
            if try userID(user.username) != nil { throw .alreadyExists(kind: "user", name: user.username) }
            try db.prepare("""
                INSERT INTO users(username, password_hash, enabled, publish_prefix, origin, created_at, updated_at, auth_method)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).bind(.text(user.username), .text(user.passwordHash), .bool(user.enabled),
                          .optional(user.publishPrefix), .text(user.origin.rawValue), .int(now), .int(now),
                          .text(user.authMethod.rawValue)).run()
            let id = db.lastInsertRowID
            for role in Set(user.roles).sorted() {
                try linkRole(userID: id, role: role)
            }
            try audit("user.add", subject: user.username,
                      detail: "origin=\(user.origin.rawValue) roles=\(user.roles.sorted().joined(separator: ","))", at: now)
        }
    }

    public func setPassword(_ username: String, hash: String, now: Int64 = Clock.unixNow()) throws(StoreError) {
        try validateHash(hash)
        try updateUser(username, set: "password_hash = ?", .text(hash), action: "user.passwd", detail: "", now: now)
    }

    public func setEnabled(_ username: String, _ enabled: Bool, now: Int64 = Clock.unixNow()) throws(StoreError) {
        try updateUser(username, set: "enabled = ?", .bool(enabled), action: enabled ? "user.enable" : "user.disable",
                       detail: "", now: now)
    }

    public func setPublishPrefix(_ username: String, _ prefix: String?, now: Int64 = Clock.unixNow()) throws(StoreError) {
        if let prefix { try wrapValidation { () throws(ValidationError) in try Validation.validatePublishPrefix(prefix) } }
        try updateUser(username, set: "publish_prefix = ?", .optional(prefix), action: "user.prefix",
                       detail: prefix.map { "prefix=\($0)" } ?? "prefix cleared", now: now)
    }

    public func removeUser(_ username: String, now: Int64 = Clock.unixNow()) throws(StoreError) {
        try write { () throws(StoreError) in
            try db.prepare("DELETE FROM users WHERE username = ?").bind(.text(username)).run()
            if db.changes == 0 { throw .notFound(kind: "user", name: username) }
            // Its certificates stay listed (and in the CRL) but can never admit a later user of that name.
            try revokeCertificates(of: username, now: now)
            try audit("user.rm", subject: username, at: now)
        }
    }

    public func assign(_ username: String, role: String, now: Int64 = Clock.unixNow()) throws(StoreError) {
        try write { () throws(StoreError) in
            guard let id = try userID(username) else { throw .notFound(kind: "user", name: username) }
            try linkRole(userID: id, role: role)
            try touchUser(id, now: now)
            try audit("user.assign", subject: username, detail: "role=\(role)", at: now)
        }
    }

    public func unassign(_ username: String, role: String, now: Int64 = Clock.unixNow()) throws(StoreError) {
        try write { () throws(StoreError) in
            guard let id = try userID(username) else { throw .notFound(kind: "user", name: username) }
            guard let roleID = try roleID(role) else { throw .notFound(kind: "role", name: role) }
            try db.prepare("DELETE FROM user_roles WHERE user_id = ? AND role_id = ?").bind(.int(id), .int(roleID)).run()
            if db.changes == 0 { throw .invalid("user \"\(username)\" does not have role \"\(role)\"") }
            try touchUser(id, now: now)
            try audit("user.unassign", subject: username, detail: "role=\(role)", at: now)
        }
    }

    // MARK: - helpers

    func userID(_ username: String) throws(StoreError) -> Int64? {
        try db.prepare("SELECT id FROM users WHERE username = ?").bind(.text(username)).stepInt()
    }

    private func updateUser(_ username: String, set assignment: String, _ value: SQLValue, action: String,
                            detail: String, now: Int64) throws(StoreError) {
        try write { () throws(StoreError) in
            try db.prepare("UPDATE users SET \(assignment), updated_at = ? WHERE username = ?")
                .bind(value, .int(now), .text(username)).run()
            if db.changes == 0 { throw .notFound(kind: "user", name: username) }
            try audit(action, subject: username, detail: detail, at: now)
        }
    }

    func touchUser(_ id: Int64, now: Int64) throws(StoreError) {
        try db.prepare("UPDATE users SET updated_at = ? WHERE id = ?").bind(.int(now), .int(id)).run()
    }

    func linkRole(userID: Int64, role: String) throws(StoreError) {
        guard let roleID = try roleID(role) else { throw .notFound(kind: "role", name: role) }
        try db.prepare("INSERT OR IGNORE INTO user_roles(user_id, role_id) VALUES (?, ?)").bind(.int(userID), .int(roleID)).run()
    }

    private func roleNames(ofUserID id: Int64) throws(StoreError) -> [String] {
        let stmt = try db.prepare("""
            SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ? ORDER BY r.name
            """).bind(.int(id))
        var names: [String] = []
        while try stmt.step() { names.append(stmt.text(0)) }
        return names
    }

    func roleNamesByUserID() throws(StoreError) -> [Int64: [String]] {
        let stmt = try db.prepare("SELECT ur.user_id, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id ORDER BY r.name")
        var map: [Int64: [String]] = [:]
        while try stmt.step() { map[stmt.int64(0), default: []].append(stmt.text(1)) }
        return map
    }

    func validate(_ user: User) throws(StoreError) {
        try wrapValidation { () throws(ValidationError) in
            try Validation.validateUsername(user.username)
            if let prefix = user.publishPrefix { try Validation.validatePublishPrefix(prefix) }
        }
        // A certificate user may have no password at all; one it has is never checked.
        if !(user.authMethod == .certificate && user.passwordHash.isEmpty) { try validateHash(user.passwordHash) }
    }

    func validateHash(_ hash: String) throws(StoreError) {
        do {
            _ = try PasswordHash(parsing: hash)
        } catch {
            throw .invalid("invalid password hash: \(error.description)")
        }
    }
}

func wrapValidation(_ body: () throws(ValidationError) -> Void) throws(StoreError) {
    do { try body() } catch { throw .invalid(error.description) }
}

extension Statement {
    /// First column of the first row as an integer, or nil when there is no row.
    func stepInt() throws(StoreError) -> Int64? {
        guard try step() else { return nil }
        return int64(0)
    }
}
