import AuthCore
import Hummingbird

/// Login (bearer token or browser session), logout, and "who am I" for the page's CSRF token.
enum AuthRoutes {
    static let endpoints: [Endpoint] = [
        Endpoint(.post, "/api/auth/login", .open, login),
        Endpoint(.post, "/api/auth/logout", .open, logout),
        Endpoint(.get, "/api/auth/session", .open, session),
    ]

    static func login(_ state: ServerState, _ call: Call) async throws -> Response {
        let body = try await call.body(allowed: ["username", "password", "session"])
        let username = try body.requiredString("username")
        let password = try body.requiredString("password")
        let wantsSession = try body.bool("session") ?? false
        let address = state.clientAddress(call.request, call.context)
        guard let user = try await state.adminPasswordCheck(username: username, password: password, address: address,
                                                            via: .login) else {
            throw APIError.unauthorized("invalid username or password")
        }
        let hasHTTPPermission = try await state.store.read { store in
            !(try ServerState.httpPermissions(of: user, in: store)).isEmpty
        }
        guard hasHTTPPermission else {
            state.metrics.adminLogin(.failed, via: .login)
            throw APIError(.forbidden, "user \"\(Validation.printable(username))\" has no http permissions: give one of its roles a permission with context http (e.g. /api/# readWrite)")
        }
        state.metrics.adminLogin(.ok, via: .login)
        let (token, session) = await state.sessions.create(username: username, passwordHash: user.passwordHash,
                                                            kind: wantsSession ? .cookie : .bearer)
        try await state.store.write(as: "http:\(username)") { store in
            try store.recordAudit("http.login", subject: username,
                                  detail: "\(wantsSession ? "session" : "token") address=\(address)")
        }
        if wantsSession {
            let cookie = "\(Sessions.cookieName)=\(token); HttpOnly; SameSite=Strict; Path=/; Max-Age=\(Sessions.lifetimeSeconds)"
                + (state.secureCookies ? "; Secure" : "")
            return JSONResponse.make(.ok, [
                "username": .string(username), "csrfToken": .string(session.csrfToken),
                "expiresAt": .string(ISOTime.string(session.expiresAt)),
            ], headers: [.setCookie: cookie])
        }
        return JSONResponse.make(.ok, [
            "username": .string(username), "token": .string(token),
            "expiresAt": .string(ISOTime.string(session.expiresAt)),
        ])
    }

    /// Revokes the bearer token or the browser session; always clears the cookie. A cookie logout is a
    /// state change like any other and needs the CSRF token (else any site could log the admin out).
    static func logout(_ state: ServerState, _ call: Call) async throws -> Response {
        let clear = "\(Sessions.cookieName)=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0" + (state.secureCookies ? "; Secure" : "")
        let admin: Admin
        do {
            admin = try await state.authenticate(call.request, call.context)
        } catch let error as APIError where error.status == .unauthorized {
            return JSONResponse.noContent(headers: [.setCookie: clear])
        }
        switch admin.credential {
        case let .bearer(token), let .cookie(token):
            await state.sessions.revoke(token)
            try await state.store.write(as: admin.auditActor) { store in
                try store.recordAudit("http.logout", subject: admin.username)
            }
        case .basic:
            break // nothing to revoke: Basic credentials are sent with every request
        }
        return JSONResponse.noContent(headers: [.setCookie: clear])
    }

    static func session(_ state: ServerState, _ call: Call) async throws -> Response {
        guard let token = call.request.cookies[Sessions.cookieName]?.value, !token.isEmpty,
              let session = await state.sessions.lookup(token, kind: .cookie)
        else { throw APIError.unauthorized("no session: log in") }
        let username = session.username
        let enabled = try await state.store.read { try $0.user(named: username)?.enabled ?? false }
        guard enabled else {
            await state.sessions.revokeAll(of: username)
            throw APIError.unauthorized("user \"\(Validation.printable(username))\" no longer exists or is disabled")
        }
        return JSONResponse.make(.ok, [
            "username": .string(username), "csrfToken": .string(session.csrfToken),
            "expiresAt": .string(ISOTime.string(session.expiresAt)),
        ])
    }
}
