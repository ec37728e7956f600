import AuthCore
import Hummingbird

/// Users: list, create, show, delete, password, enabled, publish prefix, role membership.
enum UserRoutes {
    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/users", .admin, list),
        Endpoint(.post, "/api/users", .admin, create),
        Endpoint(.get, "/api/users/:name", .admin, show),
        Endpoint(.delete, "/api/users/:name", .admin, remove),
        Endpoint(.put, "/api/users/:name/password", .admin, setPassword),
        Endpoint(.put, "/api/users/:name/enabled", .admin, setEnabled),
        Endpoint(.put, "/api/users/:name/publish-prefix", .admin, setPublishPrefix),
        Endpoint(.put, "/api/users/:name/roles/:role", .admin, assign),
        Endpoint(.delete, "/api/users/:name/roles/:role", .admin, unassign),
    ]

    static func list(_ state: ServerState, _ call: Call) async throws -> Response {
        let users = try await state.store.read { try $0.listUsers() }
        return JSONResponse.make(.ok, .array(users.map(Representation.user)))
    }

    static func create(_ state: ServerState, _ call: Call) async throws -> Response {
        let body = try await call.body(allowed: ["username", "password", "roles", "enabled", "publishPrefix"])
        let username = try body.requiredString("username")
        try Check.username(username)
        let password = try body.requiredString("password")
        try Check.password(password)
        let roles = try body.strings("roles") ?? []
        try Check.roleNames(roles, field: "roles")
        let enabled = try body.bool("enabled") ?? true
        let prefix = try body.string("publishPrefix")
        if let prefix { try Check.publishPrefix(prefix) }
        let hash = PasswordHash.make(password: password).encoded
        let caller = try call.caller
        let user = try await state.store.write(as: call.actor) { store in
            try RoleRoutes.requireRoles(roles, field: "roles", in: store)
            try caller.requireWrite(onRoles: roles, .give(to: username), in: store)
            try store.addUser(User(username: username, passwordHash: hash, enabled: enabled, roles: roles,
                                   publishPrefix: prefix, origin: .manual))
            return try store.requireUser(username)
        }
        return JSONResponse.make(.created, Representation.user(user), headers: [.location: "/api/users/\(username)"])
    }

    static func show(_ state: ServerState, _ call: Call) async throws -> Response {
        let name = try call.parameter("name")
        let user = try await state.store.read { try $0.requireUser(name) }
        return JSONResponse.make(.ok, Representation.user(user))
    }

    static func remove(_ state: ServerState, _ call: Call) async throws -> Response {
        let name = try call.parameter("name")
        let caller = try call.caller
        try await state.store.write(as: call.actor) { store in
            try caller.requireWrite(onAccountOf: name, in: store)
            try store.removeUser(name)
        }
        await state.sessions.revokeAll(of: name)
        return JSONResponse.noContent()
    }

    static func setPassword(_ state: ServerState, _ call: Call) async throws -> Response {
        let name = try call.parameter("name")
        let body = try await call.body(allowed: ["password"])
        let password = try body.requiredString("password")
        try Check.password(password)
        let hash = PasswordHash.make(password: password).encoded
        let caller = try call.caller
        try await state.store.write(as: call.actor) { store in
            try caller.requireWrite(onAccountOf: name, in: store)
            try store.setPassword(name, hash: hash)
        }
        return JSONResponse.noContent()
    }

    static func setEnabled(_ state: ServerState, _ call: Call) async throws -> Response {
        let name = try call.parameter("name")
        let body = try await call.body(allowed: ["enabled"])
        guard let enabled = try body.bool("enabled") else { throw APIError.badField("enabled", "is required") }
        let caller = try call.caller
        let user = try await state.store.write(as: call.actor) { store in
            try caller.requireWrite(onAccountOf: name, in: store)
            try store.setEnabled(name, enabled)
            return try store.requireUser(name)
        }
        if !enabled { await state.sessions.revokeAll(of: name) }
        return JSONResponse.make(.ok, Representation.user(user))
    }

    static func setPublishPrefix(_ state: ServerState, _ call: Call) async throws -> Response {
        let name = try call.parameter("name")
        let body = try await call.body(allowed: ["publishPrefix"])
        guard body.has("publishPrefix") else {
            throw APIError.badField("publishPrefix", "is required (a topic prefix, or null to clear it)")
        }
        let prefix = try body.string("publishPrefix")
        if let prefix { try Check.publishPrefix(prefix) }
        let caller = try call.caller
        let user = try await state.store.write(as: call.actor) { store in
            try caller.requireWrite(onAccountOf: name, in: store)
            try store.setPublishPrefix(name, prefix)
            return try store.requireUser(name)
        }
        return JSONResponse.make(.ok, Representation.user(user))
    }

    static func assign(_ state: ServerState, _ call: Call) async throws -> Response {
        let name = try call.parameter("name")
        let role = try call.parameter("role")
        let caller = try call.caller
        let user = try await state.store.write(as: call.actor) { store in
            try caller.requireWrite(onRoles: [role], .give(to: name), in: store)
            try store.assign(name, role: role)
            return try store.requireUser(name)
        }
        return JSONResponse.make(.ok, Representation.user(user))
    }

    static func unassign(_ state: ServerState, _ call: Call) async throws -> Response {
        let name = try call.parameter("name")
        let role = try call.parameter("role")
        let caller = try call.caller
        let user = try await state.store.write(as: call.actor) { store in
            try caller.requireWrite(onRoles: [role], .take, in: store)
            let user = try store.requireUser(name)
            _ = try store.requireRole(role)
            guard user.roles.contains(role) else {
                throw APIError(.notFound, "user \"\(Validation.printable(name))\" does not have role \"\(Validation.printable(role))\"")
            }
            try store.unassign(name, role: role)
            return try store.requireUser(name)
        }
        return JSONResponse.make(.ok, Representation.user(user))
    }
}
