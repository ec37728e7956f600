import AuthCore
import Hummingbird

/// Roles and their permissions.
enum RoleRoutes {
    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/roles", .admin, list),
        Endpoint(.post, "/api/roles", .admin, create),
        Endpoint(.get, "/api/roles/:name", .admin, show),
        Endpoint(.delete, "/api/roles/:name", .admin, remove),
        Endpoint(.post, "/api/roles/:name/permissions", .admin, grant),
        Endpoint(.delete, "/api/roles/:name/permissions", .admin, revoke),
    ]

    static let permissionFields: Set<String> = ["resource", "operation", "context"]

    static func list(_ state: ServerState, _ call: Call) async throws -> Response {
        let roles = try await state.store.read { try $0.listRoles() }
        return JSONResponse.make(.ok, .array(roles.map(Representation.role)))
    }

    static func create(_ state: ServerState, _ call: Call) async throws -> Response {
        let body = try await call.body(allowed: ["name", "permissions"])
        let name = try body.requiredString("name")
        try Check.roleName(name, field: "name")
        let permissions = try (body.objects("permissions") ?? []).enumerated().map { index, item in
            try permission(item, field: "permissions[\(index)]")
        }
        let caller = try call.caller
        let role = try await state.store.write(as: call.actor) { store in
            try caller.requireWrite(onRoles: [name], .grant(permissions), in: store)
            // One transaction: a role never exists half-granted.
            try store.transaction { () throws(StoreError) in
                try store.addRole(name)
                for permission in permissions { try store.grant(name, permission) }
            }
            return try store.requireRole(name)
        }
        return JSONResponse.make(.created, Representation.role(role), headers: [.location: "/api/roles/\(name)"])
    }

    static func show(_ state: ServerState, _ call: Call) async throws -> Response {
        let name = try call.parameter("name")
        let role = try await state.store.read { try $0.requireRole(name) }
        return JSONResponse.make(.ok, Representation.role(role))
    }

    static func remove(_ state: ServerState, _ call: Call) async throws -> Response {
        let name = try call.parameter("name")
        let caller = try call.caller
        try await state.store.write(as: call.actor) { store in
            try caller.requireWrite(onRoles: [name], .take, in: store)
            try store.removeRole(name)
        }
        return JSONResponse.noContent()
    }

    static func grant(_ state: ServerState, _ call: Call) async throws -> Response {
        let name = try call.parameter("name")
        let body = try await call.body(allowed: permissionFields)
        let permission = try permission(body, field: nil)
        let caller = try call.caller
        let role = try await state.store.write(as: call.actor) { store in
            try caller.requireWrite(onRoles: [name], .grant([permission]), in: store)
            try store.grant(name, permission)
            return try store.requireRole(name)
        }
        return JSONResponse.make(.ok, Representation.role(role))
    }

    static func revoke(_ state: ServerState, _ call: Call) async throws -> Response {
        let name = try call.parameter("name")
        guard let resource = call.query("resource"), !resource.isEmpty else {
            throw APIError.badField("resource", "query parameter is required (e.g. ?resource=sensors/%23&context=mqtt)")
        }
        let context = try Check.context(call.query("context"))
        let operation = try call.query("operation").map { text throws in
            guard let op = Operation(rawValue: text) else { throw APIError.badField("operation", "must be read, write or readWrite") }
            return op
        }
        let caller = try call.caller
        let role = try await state.store.write(as: call.actor) { store in
            try caller.requireWrite(onRoles: [name], .take, in: store)
            try store.revoke(name, resource: resource, context: context, operation: operation)
            return try store.requireRole(name)
        }
        return JSONResponse.make(.ok, Representation.role(role))
    }

    /// A permission object; `field` prefixes the names in errors when it sits inside a list.
    static func permission(_ body: JSONBody, field: String?) throws -> Permission {
        func name(_ key: String) -> String { field.map { "\($0).\(key)" } ?? key }
        if let unknown = body.members.keys.sorted().first(where: { !permissionFields.contains($0) }) {
            throw APIError.badField(name(unknown), "unknown field (expected: context, operation, resource)")
        }
        func string(_ key: String) throws -> String? {
            do { return try body.string(key) } catch { throw APIError.badField(name(key), "must be a string") }
        }
        guard let resource = try string("resource") else { throw APIError.badField(name("resource"), "is required") }
        try Check.resource(resource, field: name("resource"))
        guard let operation = try string("operation") else { throw APIError.badField(name("operation"), "is required") }
        let op = try Check.operation(operation, field: name("operation"))
        let context = try Check.context(try string("context"), field: name("context"))
        return Permission(resource: resource, operation: op, context: context)
    }

    /// Every role must exist; a missing one is the caller's input error (400 naming the field), not a 404.
    static func requireRoles(_ roles: [String], field: String, in store: Store) throws {
        for (index, role) in roles.enumerated() where try store.role(named: role) == nil {
            throw APIError.badField("\(field)[\(index)]", "no role named \"\(Validation.printable(role))\"")
        }
    }
}
