import Foundation
import Hummingbird

/// One API route. The table of all of them (`APIRoutes.all`) is what the router is built from and what
/// the OpenAPI test checks against docs/openapi.json, so the document cannot miss a route.
struct Endpoint: Sendable {
    enum Guard: Sendable {
        /// No admin credentials: the device's registration door, login, the OpenAPI document, /healthz.
        case open
        /// Basic, Bearer or session cookie, plus an http permission covering the path.
        case admin
        /// As admin, or the `--metrics-token-file` token as a bearer token (GET /metrics).
        case metrics
    }

    let method: HTTPRequest.Method
    /// Hummingbird's syntax: `/api/users/:name`.
    let path: String
    let access: Guard
    let handler: @Sendable (ServerState, Call) async throws -> Response

    init(_ method: HTTPRequest.Method, _ path: String, _ access: Guard,
         _ handler: @escaping @Sendable (ServerState, Call) async throws -> Response) {
        self.method = method
        self.path = path
        self.access = access
        self.handler = handler
    }

    /// The same path in OpenAPI's syntax: `/api/users/{name}`.
    var openAPIPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
        }.joined(separator: "/")
    }
}

/// One request as a route sees it.
struct Call: Sendable {
    let request: Request
    let context: ServerContext
    /// Set for admin routes.
    let admin: Admin?

    /// The authorized caller of an admin route.
    var caller: Admin {
        get throws {
            guard let admin else { throw APIError.unauthorized() }
            return admin
        }
    }

    /// The audit log's actor for changes made by this call.
    var actor: String { admin?.auditActor ?? StoreService.anonymousActor }

    /// A path parameter, percent-decoded (usernames may contain characters a URL must escape).
    func parameter(_ name: String) throws -> String {
        guard let raw = context.parameters.get(name) else { throw APIError(.badRequest, "\(name): missing from the path") }
        guard let decoded = raw.removingPercentEncoding else { throw APIError(.badRequest, "\(name): bad percent-encoding") }
        return decoded
    }

    func body(allowed: Set<String>) async throws -> JSONBody {
        try await JSONBody.read(request, allowed: allowed)
    }

    func query(_ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].map(String.init)
    }
}

extension ServerState {
    func handle(_ endpoint: Endpoint, _ request: Request, _ context: ServerContext) async throws -> Response {
        let admin: Admin?
        switch endpoint.access {
        case .open: admin = nil
        case .admin: admin = try await authorize(request, context)
        case .metrics: admin = try await authorizeMetrics(request, context)
        }
        return try await endpoint.handler(self, Call(request: request, context: context, admin: admin))
    }
}
