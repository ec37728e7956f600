import AuthCore
import CWAuthCA
import Hummingbird

/// The explicit registration flow: the device's door, no admin credentials. The device repeats the same
/// request to poll: 423 while the window is locked, 202 while its request is pending, 201 once an admin
/// has allowed it. Storage, conflicts, blocklist and the pending cap are the broker's (Store.recordRegistration).
enum RegisterRoute {
    static let endpoints: [Endpoint] = [
        Endpoint(.post, "/api/client-registry/register", .open) { state, call in
            try await state.metrics.countingRegistration { try await register(state, call) }
        },
    ]

    static let maxRequestedRoles = 32
    static let maxContextLength = 256

    struct Request: Sendable {
        let username: String
        let password: String
        let roles: [String]
        let context: String
        /// Checked already: signature, one CN equal to the username.
        let csr: ValidatedCSR?
    }

    static func register(_ state: ServerState, _ call: Call) async throws -> Response {
        let request = try await parse(call)
        let address = state.clientAddress(call.request, call.context)
        if try await state.store.read({ try $0.user(named: request.username) != nil }) {
            return try await existingUser(state, request, address: address)
        }
        let (window, pending) = try await state.store.read { store in
            (try store.registryWindow(), try store.pendingRequest(request.username))
        }
        guard window.isOpen() else {
            // A device that registered before the window closed keeps polling: it is still pending.
            if let pending, try await matches(state, pending, request.password, address: address) { return accepted() }
            throw locked()
        }
        guard await state.registrationGate.admit(username: request.username, password: request.password) else {
            throw APIError.tooManyRequests(retryAfter: 1, "too many registration attempts: repeat the request in a second")
        }
        let attempt = RegistrationAttempt(username: request.username, password: request.password, address: address,
                                          requestedRoles: request.roles, source: "http", requestedContext: request.context,
                                          csrPEM: request.csr?.pem ?? "", csrFingerprint: request.csr?.publicKeyFingerprint ?? "")
        let maxPending = state.options.maxPending
        let outcome = try await state.store.write(as: StoreService.anonymousActor) {
            try $0.recordRegistration(attempt, maxPending: maxPending)
        }
        return try await answer(outcome, state, request, address: address)
    }

    private static func answer(_ outcome: RegistrationOutcome, _ state: ServerState, _ request: Request,
                               address: String) async throws -> Response {
        switch outcome {
        case .recorded, .updated:
            return accepted()
        case .conflict:
            throw APIError(.conflict, "a registration for \"\(Validation.printable(request.username))\" with a different password is pending; this attempt was flagged for the administrator")
        case .windowClosed:
            throw locked()
        case .blocked:
            throw APIError(.forbidden, "registration of \"\(Validation.printable(request.username))\" was denied by an administrator")
        case .tableFull:
            throw APIError(.serviceUnavailable, "too many pending registrations: try again later", headers: [.retryAfter: "60"])
        case .rejected:
            throw APIError(.badRequest, "username or password refused by the registry")
        case .userExists:
            // Allowed between our check and the write: answer as for any existing user.
            return try await existingUser(state, request, address: address)
        }
    }

    /// The name belongs to a user: 201 with its roles when the password is right (this is how an allowed
    /// device learns it is in). A wrong password is a failed login (throttled like one) and tells no more
    /// than the window state does: 423 while locked, 409 "taken" while open.
    private static func existingUser(_ state: ServerState, _ request: Request, address: String) async throws -> Response {
        switch try await state.checkPassword(username: request.username, password: request.password, address: address) {
        case let .valid(user):
            guard user.authMethod == .certificate else {
                return JSONResponse.make(.created, ["username": .string(user.username), "roles": .strings(user.roles)])
            }
            // Allowed with a CSR: the certificate signed at the grant, and the CA to verify the broker's chain with.
            let (issued, ca) = try await state.store.read { store in
                (try store.listCertificates(username: user.username).first { !$0.isRevoked }, try store.certificateAuthority())
            }
            guard let issued, let ca else {
                throw APIError(.forbidden, "user \"\(Validation.printable(user.username))\" has no valid certificate: ask an administrator to issue one")
            }
            return JSONResponse.make(.created, ["username": .string(user.username), "roles": .strings(user.roles),
                                                "grantType": "certificate", "certificate": .string(issued.pem),
                                                "caCertificate": .string(ca.certificatePEM)])
        case .disabled:
            throw APIError(.forbidden, "user \"\(Validation.printable(request.username))\" is disabled")
        case .invalid:
            let open = try await state.store.read { try $0.registryWindow().isOpen() }
            guard open else { throw locked() }
            throw APIError(.conflict, "username \"\(Validation.printable(request.username))\" is already taken")
        }
    }

    /// Whether the password is the one the pending request was recorded with. Guessing it would tell an
    /// attacker a device's password, so misses count towards the same lockout as failed logins.
    private static func matches(_ state: ServerState, _ pending: PendingRequest, _ password: String,
                                address: String) async throws -> Bool {
        if let wait = await state.throttle.retryAfter(username: pending.username, address: address) {
            throw APIError.tooManyRequests(retryAfter: wait, "too many failed attempts for this username or address: try again in \(wait) s")
        }
        // Cache key apart from real users' (usernames cannot contain control characters).
        let ok = await state.credentials.verify(username: "\u{1}pending:" + pending.username, password: password,
                                                encodedHash: pending.passwordHash)
        if !ok { await state.throttle.recordFailure(username: pending.username, address: address) }
        return ok
    }

    private static func accepted() -> Response {
        JSONResponse.make(.accepted, ["status": "pending"])
    }

    private static func locked() -> APIError {
        APIError(.locked, "the client registry is locked: ask an administrator to unlock it, then repeat the request")
    }

    private static func parse(_ call: Call) async throws -> Request {
        let body = try await call.body(allowed: ["username", "password", "roles", "context", "csr"])
        let username = try body.requiredString("username")
        try Check.username(username)
        let password = try body.requiredString("password")
        try Check.password(password)
        let roles = try body.strings("roles") ?? []
        guard roles.count <= maxRequestedRoles else { throw APIError.badField("roles", "at most \(maxRequestedRoles) roles") }
        try Check.roleNames(roles, field: "roles")
        let context = try body.string("context") ?? ""
        guard context.unicodeScalars.count <= maxContextLength,
              Validation.printable(context, limit: maxContextLength) == context
        else { throw APIError.badField("context", "must be at most \(maxContextLength) printable characters on one line") }
        var csr: ValidatedCSR?
        if let pem = try body.string("csr") {
            do { csr = try CSRCheck.validate(pem: pem, username: username) } catch { throw APIError(.badRequest, error.description) }
        }
        return Request(username: username, password: password, roles: Array(Set(roles)).sorted(), context: context, csr: csr)
    }
}
