import AuthCore
import Foundation
import HTTPTypes
import Hummingbird

/// Who is calling an admin route, and how they proved it.
struct Admin: Sendable {
    enum Credential: Sendable {
        case basic
        case bearer(token: String)
        case cookie(token: String)
    }

    let username: String
    let credential: Credential
    /// For a token or cookie: the stored hash when it was issued (Basic proves the current password).
    var passwordHashAtLogin: String? = nil
    /// The caller's http permissions, read when the request was authorized.
    var permissions: [Permission] = []

    /// The audit log's actor for this admin's changes.
    var auditActor: String { "http:\(username)" }
}

/// Who may hand out what. The path check (`ServerState.authorize`) says which routes a caller may call; a
/// permission on a user's own path (`/api/users/%u/#`) is meant for self-service — their password, say —
/// and must not let them give themselves more. So every change to who holds a role or what a role grants
/// also passes the checks here, inside the write's transaction:
///
/// 1. The role's own resource: http write covering `/api/roles/NAME` (the name percent-encoded as in its
///    URL) for every role whose holders or permissions change — assign, unassign, grant, revoke, role
///    create or delete, a new user's roles, a registry allow's roles.
/// 2. Admin status: a role that makes its holders admins (an http readWrite permission covering `/api/#`,
///    as `Store.adminUsernames` counts them), before or after the change, is given, taken away, changed or
///    removed only by an admin.
/// 3. No more than one holds: a non-admin may hand out (assign, grant, create with) only http access their
///    own http permissions cover.
/// 4. Someone else's account (password, enabled, publish prefix, delete) is changed only by a caller whose
///    http access covers that user's: a user manager cannot take over an admin by resetting a password.
extension Admin {
    /// The resource a role's changes need write on: its route's path.
    static func roleResource(_ role: String) -> String {
        "/api/roles/" + (role.addingPercentEncoding(withAllowedCharacters: unreserved) ?? role)
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Holds an http readWrite permission covering the whole API.
    var isAdmin: Bool { Self.makesAdmin(permissions, username: username) }

    /// Whether these permissions (one role's, or a user's) give their holder admin status.
    static func makesAdmin(_ permissions: [Permission], username: String) -> Bool {
        permissions.contains { Store.makesAdmin($0, holder: username) }
    }

    /// Whether the caller's own http permissions cover `permission` (for `holder`, who replaces its %u).
    func holds(_ permission: Permission, for holder: String?) -> Bool {
        if isAdmin { return true }
        guard permission.context == .http, var wanted = try? TopicFilter(validating: permission.resource) else { return true }
        if let holder {
            // A %u that cannot stand as a level matches nothing: nothing handed out.
            guard let substituted = wanted.substituted(username: holder, clientId: "") else { return true }
            wanted = substituted
        }
        return permissions.contains { own in
            own.context == .http && own.operation.adding(permission.operation) == own.operation
                && (try? TopicFilter(validating: own.resource))?.covers(wanted, username: username, clientId: "") == true
        }
    }

    /// What a change does to a role.
    enum RoleChange {
        /// Assign, or a new user's or registered device's roles: the role's permissions go to this user.
        case give(to: String)
        /// Unassign, revoke, remove the role: access is only taken away.
        case take
        /// Grant, or create the role with these permissions: every holder gets them.
        case grant([Permission])
    }

    /// The one check behind every change to who holds a role or what it grants (rules 1–3 above); call it
    /// in the write's transaction, before the change.
    func requireWrite(onRoles roles: [String], _ change: RoleChange, in store: Store) throws {
        for role in roles {
            let resource = Self.roleResource(role)
            guard HTTPAccess.allows(permissions, path: resource, method: .put, username: username) else {
                throw APIError(.forbidden, "user \"\(Validation.printable(username))\" may not change role \"\(Validation.printable(role))\" (who holds it or what it grants): needs an http write permission covering \(Validation.printable(resource, limit: 300))")
            }
            if isAdmin { continue }
            let current = try store.role(named: role)?.permissions ?? []
            let holder: String?
            let after: [Permission]
            let handedOut: [Permission]
            switch change {
            case let .give(to: user): (holder, after, handedOut) = (user, current, current)
            case .take: (holder, after, handedOut) = (nil, current, [])
            case let .grant(added): (holder, after, handedOut) = (nil, current + added, added)
            }
            if Self.makesAdmin(after, username: holder ?? "") {
                throw APIError(.forbidden, "role \"\(Validation.printable(role))\" makes its holders admins (http \(Store.adminScope) readWrite): only an admin may give it, take it away or change it")
            }
            if let missing = handedOut.first(where: { !holds($0, for: holder) }) {
                throw APIError(.forbidden, "user \"\(Validation.printable(username))\" may not hand out http access it does not hold: \(Validation.printable(missing.resource, limit: 300)) \(missing.operation.rawValue) (role \"\(Validation.printable(role))\")")
            }
        }
    }

    /// Rule 4 above: changing another user's account needs at least that user's http access.
    func requireWrite(onAccountOf target: String, in store: Store) throws {
        guard target != username, !isAdmin, let user = try store.user(named: target) else { return }
        let theirs = try ServerState.httpPermissions(of: user, in: store)
        if let missing = theirs.first(where: { !holds($0, for: target) }) {
            throw APIError(.forbidden, "user \"\(Validation.printable(username))\" may not change user \"\(Validation.printable(target))\", who has http access it does not hold: \(Validation.printable(missing.resource, limit: 300)) \(missing.operation.rawValue)")
        }
    }
}

/// What an http permission lets a user do with an API path: GET/HEAD need read, anything else write.
/// The request path is matched as an MQTT topic ("/api/users" → levels "", "api", "users"), so
/// `/api/#` covers the whole API and `/api/client-registry/#` just the registry.
enum HTTPAccess {
    static func access(for method: HTTPRequest.Method) -> Access {
        method == .get || method == .head ? .read : .write
    }

    static func allows(_ permissions: [Permission], path: String, method: HTTPRequest.Method, username: String) -> Bool {
        let access = access(for: method)
        let topic = canonical(path)
        return permissions.contains { permission in
            guard permission.context == .http, permission.operation.allows(access),
                  let filter = try? TopicFilter(validating: permission.resource)
            else { return false }
            return filter.matches(topic: topic, username: username, clientId: "")
        }
    }

    /// The path as the router sees it: the router skips empty segments ("//api/users/" routes like
    /// "/api/users"), so the permission must be checked against the same form, not the raw text.
    static func canonical(_ path: String) -> String {
        "/" + path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }
}

extension ServerState {
    /// Authenticates an admin route's caller and checks its http permission for this path and method.
    func authorize(_ request: Request, _ context: ServerContext) async throws -> Admin {
        let admin = try await authenticate(request, context)
        let username = admin.username
        let found = try await store.read { store -> (User, [Permission])? in
            guard let user = try store.user(named: username) else { return nil }
            return (user, try Self.httpPermissions(of: user, in: store))
        }
        guard let (user, permissions) = found, user.enabled else {
            await sessions.revokeAll(of: username)
            throw APIError.unauthorized("user \"\(Validation.printable(username))\" no longer exists or is disabled")
        }
        if let issuedWith = admin.passwordHashAtLogin, issuedWith != user.passwordHash {
            await sessions.revokeAll(of: username)
            throw APIError.unauthorized("the password changed since this login: log in again")
        }
        let path = request.uri.path
        guard HTTPAccess.allows(permissions, path: path, method: request.method, username: username) else {
            let needed = HTTPAccess.access(for: request.method).rawValue
            throw APIError(.forbidden, "user \"\(Validation.printable(username))\" may not \(request.method.rawValue) \(Validation.printable(path)): needs an http \(needed) permission covering it")
        }
        var authorized = admin
        authorized.permissions = permissions
        return authorized
    }

    /// Basic or Bearer from the Authorization header, else the session cookie (with CSRF for writes).
    func authenticate(_ request: Request, _ context: ServerContext) async throws -> Admin {
        if let authorization = request.headers[.authorization] {
            return try await authenticate(authorization: authorization, address: clientAddress(request, context))
        }
        if let token = request.cookies[Sessions.cookieName]?.value, !token.isEmpty {
            guard let session = await sessions.lookup(token, kind: .cookie) else {
                throw APIError.unauthorized("session expired or logged out: log in again")
            }
            if HTTPAccess.access(for: request.method) == .write {
                try Self.checkCSRF(request, expected: session.csrfToken)
            }
            return Admin(username: session.username, credential: .cookie(token: token), passwordHashAtLogin: session.passwordHash)
        }
        throw APIError.unauthorized()
    }

    private func authenticate(authorization: String, address: String) async throws -> Admin {
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let scheme = parts.first.map { $0.lowercased() } ?? ""
        let value = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        switch scheme {
        case "basic":
            guard let decoded = Base64.decode(value), let text = String(validating: decoded, as: UTF8.self),
                  let colon = text.firstIndex(of: ":")
            else { throw APIError.unauthorized("malformed Basic credentials") }
            let username = String(text[..<colon])
            let password = String(text[text.index(after: colon)...])
            guard try await adminPasswordCheck(username: username, password: password, address: address, via: .basic) != nil else {
                throw APIError.unauthorized("invalid username or password")
            }
            metrics.adminLogin(.ok, via: .basic)
            return Admin(username: username, credential: .basic)
        case "bearer":
            guard let session = await sessions.lookup(value, kind: .bearer) else {
                throw APIError.unauthorized("invalid or expired token: log in again")
            }
            return Admin(username: session.username, credential: .bearer(token: value), passwordHashAtLogin: session.passwordHash)
        default:
            throw APIError.unauthorized("unsupported Authorization scheme: use Basic or Bearer")
        }
    }

    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    static func checkCSRF(_ request: Request, expected: String) throws {
        guard let sent = request.headers[csrfHeader],
              Crypto.constantTimeEqual(Array(sent.utf8), Array(expected.utf8))
        else { throw APIError(.forbidden, "missing or invalid CSRF token") }
    }

    enum PasswordCheck: Sendable {
        case valid(User)
        /// Right password, but the account is disabled.
        case disabled(User)
        /// Wrong password or no such user (counted as a failure).
        case invalid
    }

    /// The one password check behind Basic auth, logins and the registration door's existing-user answer.
    /// Throws 429 while this caller is in back-off (see LoginThrottle); a wrong password counts towards that.
    func checkPassword(username: String, password: String, address: String) async throws -> PasswordCheck {
        if let wait = await throttle.retryAfter(username: username, address: address) {
            throw APIError.tooManyRequests(retryAfter: wait, "too many failed logins for this username or address: try again in \(wait) s")
        }
        let user = try await store.read { try $0.user(named: username) }
        let matches: Bool
        if let user {
            matches = await credentials.verify(username: username, password: password, encodedHash: user.passwordHash)
        } else {
            matches = await credentials.verifyDummy(password: password)
        }
        if matches, let user {
            await throttle.recordSuccess(username: username, address: address)
            return user.enabled ? .valid(user) : .disabled(user)
        }
        if await throttle.recordFailure(username: username, address: address) {
            // One row when a lockout starts, not one per guess: a guessing storm must not flood the log.
            _ = try? await store.write(as: StoreService.anonymousActor) { store in
                try store.recordAudit("http.login-locked", subject: username,
                                      detail: "\(self.options.loginMaxFailures) failed password checks; address=\(address)")
            }
        }
        return .invalid
    }

    /// `validUser` for an admin's login, counted in cwauth_admin_logins_total: a refusal as failed (nil) or
    /// throttled (the 429 is rethrown). Success is the caller's to count, once it has let the user in.
    func adminPasswordCheck(username: String, password: String, address: String,
                            via: ServerMetrics.LoginVia) async throws -> User? {
        do {
            let user = try await validUser(username: username, password: password, address: address)
            if user == nil { metrics.adminLogin(.failed, via: via) }
            return user
        } catch let error as APIError where error.status == .tooManyRequests {
            metrics.adminLogin(.throttled, via: via)
            throw error
        }
    }

    /// GET /metrics: the `--metrics-token-file` token, else an admin with http read covering /metrics.
    func authorizeMetrics(_ request: Request, _ context: ServerContext) async throws -> Admin? {
        if let expected = options.metricsToken, let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "bearer",
               Crypto.constantTimeEqual(Array(parts[1].trimmingCharacters(in: .whitespaces).utf8), Array(expected.utf8)) {
                return nil
            }
        }
        return try await authorize(request, context)
    }

    /// A password user whose password is right and who is enabled, or nil. A certificate user never logs in
    /// with a password: the one it registered with is only the registration door's poll secret.
    func validUser(username: String, password: String, address: String) async throws -> User? {
        if case let .valid(user) = try await checkPassword(username: username, password: password, address: address),
           user.authMethod == .password {
            return user
        }
        return nil
    }

    static func httpPermissions(of user: User, in store: Store) throws -> [Permission] {
        var permissions: [Permission] = []
        for name in user.roles {
            if let role = try store.role(named: name) { permissions += role.permissions.filter { $0.context == .http } }
        }
        return permissions
    }
}
