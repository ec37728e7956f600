import AuthCore
import CWAuthCA
import Hummingbird

/// The client registry for admins: window status, unlock/lock, pending requests, allow/deny.
enum RegistryRoutes {
    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/client-registry", .admin, status),
        Endpoint(.post, "/api/client-registry/unlock", .admin, unlock),
        Endpoint(.post, "/api/client-registry/lock", .admin, lock),
        Endpoint(.post, "/api/client-registry/pending/:username/allow", .admin, allow),
        Endpoint(.post, "/api/client-registry/pending/:username/deny", .admin, deny),
    ]

    static let defaultMinutes = Int64(Store.defaultWindowMinutes)

    static func status(_ state: ServerState, _ call: Call) async throws -> Response {
        JSONResponse.make(.ok, try await statusObject(state))
    }

    static func unlock(_ state: ServerState, _ call: Call) async throws -> Response {
        let body = try await call.body(allowed: ["minutes"])
        let minutes = try body.int("minutes") ?? defaultMinutes
        guard (1...Int64(Store.maxWindowMinutes)).contains(minutes) else {
            throw APIError.badField("minutes", "must be between 1 and \(Store.maxWindowMinutes)")
        }
        try await state.store.write(as: call.actor) { try $0.unlockRegistry(seconds: minutes * 60) }
        return JSONResponse.make(.ok, try await statusObject(state))
    }

    static func lock(_ state: ServerState, _ call: Call) async throws -> Response {
        _ = try await call.body(allowed: [])
        try await state.store.write(as: call.actor) { try $0.lockRegistry() }
        return JSONResponse.make(.ok, try await statusObject(state))
    }

    static func allow(_ state: ServerState, _ call: Call) async throws -> Response {
        let username = try call.parameter("username")
        let body = try await call.body(allowed: ["roles", "force", "confirmPrivileged"])
        let roles = try body.strings("roles") ?? []
        try Check.roleNames(roles, field: "roles")
        let force = try body.bool("force") ?? false
        let confirmPrivileged = try body.bool("confirmPrivileged") ?? false
        let caller = try call.caller
        let user = try await state.store.write(as: call.actor) { store in
            guard try store.pendingRequest(username) != nil else {
                throw APIError(.notFound, "no pending registration named \"\(Validation.printable(username))\"")
            }
            try RoleRoutes.requireRoles(roles, field: "roles", in: store)
            try caller.requireWrite(onRoles: roles, .give(to: username), in: store)
            if !confirmPrivileged {
                let privileged = try roles.filter { try store.role(named: $0).map(Privilege.isPrivileged) ?? false }
                if !privileged.isEmpty {
                    let names = privileged.map { "\"\(Validation.printable($0))\"" }.joined(separator: ", ")
                    throw APIError(.conflict, "role\(privileged.count == 1 ? "" : "s") \(names) \(privileged.count == 1 ? "is" : "are") privileged (http permissions or a catch-all # permission): a self-registered device gets \(privileged.count == 1 ? "it" : "them") only with \"confirmPrivileged\": true")
                }
            }
            do {
                // A request with a CSR: the user becomes a certificate user and the CSR is signed, in one transaction.
                do { return try CertificateGrant.allow(store, username, roles: roles, force: force).0 } catch let error as CAError {
                    throw APIError(.conflict, error.description)
                } catch let error as CSRError {
                    throw APIError(.conflict, "the recorded request cannot be signed: \(error.description); deny it and let the device register again")
                }
            } catch StoreError.conflict {
                throw APIError(.conflict, "the request for \"\(Validation.printable(username))\" is in conflict: another password was tried for the same username; check the device, then allow with \"force\": true to admit the first password")
            }
        }
        return JSONResponse.make(.created, Representation.user(user), headers: [.location: "/api/users/\(username)"])
    }

    static func deny(_ state: ServerState, _ call: Call) async throws -> Response {
        let username = try call.parameter("username")
        let body = try await call.body(allowed: ["block"])
        let block = try body.bool("block") ?? false
        try await state.store.write(as: call.actor) { try $0.deny(username, block: block) }
        return JSONResponse.noContent()
    }

    /// Privileged roles: a device that registered itself gets one only when the admin confirms it.
    enum Privilege {
        /// Any http permission (API access), or a catch-all: a resource made only of wildcard levels and
        /// ending in `#` (`#`, `+/#`, `+/+/#`, …), which reaches every topic tree.
        static func isPrivileged(_ role: Role) -> Bool {
            role.permissions.contains { $0.context == .http || isCatchAll($0.resource) }
        }

        static func isCatchAll(_ resource: String) -> Bool {
            let levels = resource.split(separator: "/", omittingEmptySubsequences: false)
            return levels.last == "#" && levels.dropLast().allSatisfy { $0 == "+" }
        }
    }

    static func statusObject(_ state: ServerState) async throws -> JSONValue {
        try await state.store.read { store in
            let now = Clock.unixNow()
            return Representation.registryStatus(try store.registryWindow(), pending: try store.pendingRequests(now: now), now: now)
        }
    }
}
