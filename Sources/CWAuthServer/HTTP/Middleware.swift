import HTTPTypes
import Hummingbird
import Logging

/// Outermost layer: every failure becomes `{"error": "..."}` with its status, and every response gets the
/// headers that keep the admin page from being framed, sniffed or fed foreign scripts.
struct ResponseMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!: "default-src 'self'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]

    func handle(_ request: Request, context: ServerContext,
                next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = JSONResponse.make(error.status, Representation.error(error.message), headers: error.headers)
        } catch let error as HTTPError {
            let message = error.status == .notFound
                ? "no such endpoint: \(request.method.rawValue) \(request.uri.path)"
                : (error.body ?? error.status.reasonPhrase)
            response = JSONResponse.make(error.status, Representation.error(message), headers: error.headers)
        } catch let error as any HTTPResponseError {
            response = JSONResponse.make(error.status, Representation.error(error.status.reasonPhrase))
        } catch {
            context.logger.error("internal error on \(request.method.rawValue) \(request.uri.path): \(error)")
            response = JSONResponse.make(.internalServerError, Representation.error("internal error: \(String(describing: error))"))
        }
        for field in Self.securityHeaders where response.headers[field.name] == nil {
            response.headers.append(field)
        }
        return response
    }
}

/// The admin web page: GET of any other path outside /api/ than a route's (/healthz, /metrics) is a page
/// or static file from `WebAssets`, or 404.
struct WebMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: ServerContext,
                next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        // The router has set the endpoint path before any middleware runs when a route matched.
        guard request.method == .get || request.method == .head, path != "/api", !path.hasPrefix("/api/"),
              context.endpointPath == nil
        else {
            return try await next(request, context)
        }
        if path == "/" {
            return Response(status: .found, headers: [.location: "/registry"])
        }
        guard let asset = WebAssets.asset(for: path) else {
            throw APIError(.notFound, "no page at \(path)")
        }
        return Response(status: .ok, headers: [.contentType: asset.contentType, .cacheControl: "no-cache"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: asset.body)))
    }
}
