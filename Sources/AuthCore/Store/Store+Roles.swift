/// Roles and their permissions.
extension Store {
    public func listRoles() throws(StoreError) -> [Role] {
        var permissionsByRole: [Int64: [Permission]] = [:]
        let perms = try db.prepare("SELECT role_id, resource, operation, context FROM permissions ORDER BY role_id, resource, context")
        while try perms.step() {
            permissionsByRole[perms.int64(0), default: []].append(Self.permission(perms, from: 1))
        }
        let stmt = try db.prepare("SELECT id, name FROM roles ORDER BY name")
        var roles: [Role] = []
        while try stmt.step() {
            roles.append(Role(name: stmt.text(1), permissions: permissionsByRole[stmt.int64(0)] ?? []))
        }
        return roles
    }

    public func role(named name: String) throws(StoreError) -> Role? {
        guard let id = try roleID(name) else { return nil }
        let stmt = try db.prepare("SELECT resource, operation, context FROM permissions WHERE role_id = ? ORDER BY resource, context")
            .bind(.int(id))
        var permissions: [Permission] = []
        while try stmt.step() { permissions.append(Self.permission(stmt, from: 0)) }
        return Role(name: name, permissions: permissions)
    }

    public func requireRole(_ name: String) throws(StoreError) -> Role {
        guard let role = try role(named: name) else { throw .notFound(kind: "role", name: name) }
        return role
    }

    /// Usernames holding the role, sorted.
    public func members(ofRole name: String) throws(StoreError) -> [String] {
        let stmt = try db.prepare("""
            SELECT u.username FROM user_roles ur JOIN users u ON u.id = ur.user_id JOIN roles r ON r.id = ur.role_id
            WHERE r.name = ? ORDER BY u.username
            """).bind(.text(name))
        var names: [String] = []
        while try stmt.step() { names.append(stmt.text(0)) }
        return names
    }

    public func addRole(_ name: String, now: Int64 = Clock.unixNow()) throws(StoreError) {
        try wrapValidation { () throws(ValidationError) in try Validation.validateRoleName(name) }
        try write { () throws(StoreError) in
            if try roleID(name) != nil { throw .alreadyExists(kind: "role", name: name) }
            try db.prepare("INSERT INTO roles(name, created_at, updated_at) VALUES (?, ?, ?)")
                .bind(.text(name), .int(now), .int(now)).run()
            try audit("role.add", subject: name, at: now)
        }
    }

    /// Removes the role; its users lose it (and the broker kicks them).
    public func removeRole(_ name: String, now: Int64 = Clock.unixNow()) throws(StoreError) {
        try write { () throws(StoreError) in
            guard let id = try roleID(name) else { throw .notFound(kind: "role", name: name) }
            let members = try members(ofRole: name)
            try db.prepare("UPDATE users SET updated_at = ? WHERE id IN (SELECT user_id FROM user_roles WHERE role_id = ?)")
                .bind(.int(now), .int(id)).run()
            try db.prepare("DELETE FROM roles WHERE id = ?").bind(.int(id)).run()
            try audit("role.rm", subject: name, detail: "members=\(members.joined(separator: ","))", at: now)
        }
    }

    /// Adds a permission, or changes the operation of the role's existing permission on the same resource.
    /// What `grant` did. Granting never takes access away: an operation adds to the one already
    /// held on the same resource (read + write = readWrite).
    public enum GrantResult: Equatable, Sendable {
        case added
        case unchanged
        case widened(from: Operation, to: Operation)
    }

    /// What `revoke` did: the whole permission went, or only the operation named.
    public enum RevokeResult: Equatable, Sendable {
        case removed
        case narrowed(to: Operation)
    }

    @discardableResult
    public func grant(_ roleName: String, _ permission: Permission, now: Int64 = Clock.unixNow()) throws(StoreError) -> GrantResult {
        try wrapValidation { () throws(ValidationError) in try Validation.validateResource(permission.resource) }
        return try write { () throws(StoreError) -> GrantResult in
            guard let id = try roleID(roleName) else { throw .notFound(kind: "role", name: roleName) }
            let held = try operation(roleID: id, permission.resource, permission.context)
            let result: GrantResult
            let operation: Operation
            switch held {
            case nil:
                result = .added
                operation = permission.operation
            case let held?:
                operation = held.adding(permission.operation)
                result = operation == held ? .unchanged : .widened(from: held, to: operation)
            }
            guard result != .unchanged else { return .unchanged }
            try db.prepare("""
                INSERT INTO permissions(role_id, resource, operation, context) VALUES (?, ?, ?, ?)
                ON CONFLICT(role_id, resource, context) DO UPDATE SET operation = excluded.operation
                """).bind(.int(id), .text(permission.resource), .text(operation.rawValue),
                          .text(permission.context.rawValue)).run()
            try touchRole(id, now: now)
            try audit("role.grant", subject: roleName,
                      detail: "\(permission.context.rawValue):\(permission.resource) \(operation.rawValue)"
                        + (held.map { " (was \($0.rawValue))" } ?? ""), at: now)
            return result
        }
    }

    /// Removes the permission on `resource`, or with `operation` only that part of it (`read` off a
    /// `readWrite` leaves `write`).
    @discardableResult
    public func revoke(_ roleName: String, resource: String, context: PermissionContext = .mqtt, operation: Operation? = nil,
                       now: Int64 = Clock.unixNow()) throws(StoreError) -> RevokeResult {
        try write { () throws(StoreError) -> RevokeResult in
            guard let id = try roleID(roleName) else { throw .notFound(kind: "role", name: roleName) }
            guard let held = try self.operation(roleID: id, resource, context) else {
                // notFound renders as `no KIND named "NAME"`: the kind must read well before "named".
                throw .notFound(kind: "permission of role \"\(roleName)\" on a resource", name: resource)
            }
            let result: RevokeResult
            if let operation, operation != .readWrite, operation != held {
                guard held == .readWrite else {
                    throw .conflict("role \"\(Validation.printable(roleName))\" has only \(held.rawValue) on \(Validation.printable(resource)), not \(operation.rawValue)")
                }
                let rest: Operation = operation == .read ? .write : .read
                try db.prepare("UPDATE permissions SET operation = ? WHERE role_id = ? AND resource = ? AND context = ?")
                    .bind(.text(rest.rawValue), .int(id), .text(resource), .text(context.rawValue)).run()
                result = .narrowed(to: rest)
            } else {
                try db.prepare("DELETE FROM permissions WHERE role_id = ? AND resource = ? AND context = ?")
                    .bind(.int(id), .text(resource), .text(context.rawValue)).run()
                result = .removed
            }
            try touchRole(id, now: now)
            try audit("role.revoke", subject: roleName,
                      detail: "\(context.rawValue):\(resource)" + (operation.map { " \($0.rawValue)" } ?? ""), at: now)
            return result
        }
    }

    private func operation(roleID id: Int64, _ resource: String, _ context: PermissionContext) throws(StoreError) -> Operation? {
        let stmt = try db.prepare("SELECT operation FROM permissions WHERE role_id = ? AND resource = ? AND context = ?")
            .bind(.int(id), .text(resource), .text(context.rawValue))
        guard try stmt.step() else { return nil }
        return Operation(rawValue: stmt.text(0))
    }

    /// Replaces a role's permission list exactly (used by `apply`).
    func replacePermissions(roleID id: Int64, _ permissions: [Permission]) throws(StoreError) {
        try db.prepare("DELETE FROM permissions WHERE role_id = ?").bind(.int(id)).run()
        let insert = try db.prepare("INSERT INTO permissions(role_id, resource, operation, context) VALUES (?, ?, ?, ?)")
        for p in permissions {
            try insert.bind(.int(id), .text(p.resource), .text(p.operation.rawValue), .text(p.context.rawValue)).run()
        }
    }

    func roleID(_ name: String) throws(StoreError) -> Int64? {
        try db.prepare("SELECT id FROM roles WHERE name = ?").bind(.text(name)).stepInt()
    }

    func touchRole(_ id: Int64, now: Int64) throws(StoreError) {
        try db.prepare("UPDATE roles SET updated_at = ? WHERE id = ?").bind(.int(now), .int(id)).run()
    }

    static func permission(_ stmt: Statement, from column: Int32) -> Permission {
        Permission(resource: stmt.text(column),
                   operation: Operation(rawValue: stmt.text(column + 1)) ?? .read,
                   context: PermissionContext(rawValue: stmt.text(column + 2)) ?? .http)
    }
}
