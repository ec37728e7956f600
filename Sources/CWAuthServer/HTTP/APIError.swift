import AuthCore
import Hummingbird

/// Every error the API answers with: a status and a one-line message, sent as `{"error": "..."}`.
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(status, Representation.error(message), headers: headers)
    }

    /// 400 naming the field, so a client (or a person reading a script's output) knows what to fix.
    static func badField(_ field: String, _ problem: String) -> APIError {
        APIError(.badRequest, "\(field): \(problem)")
    }

    static func unauthorized(_ message: String = "authentication required: HTTP Basic, a bearer token from POST /api/auth/login, or a session cookie") -> APIError {
        // Bearer, not Basic: a Basic challenge makes browsers cache credentials and send them cross-site.
        APIError(.unauthorized, message, headers: [.wwwAuthenticate: "Bearer realm=\"cwauth\""])
    }

    static func tooManyRequests(retryAfter seconds: Int, _ message: String) -> APIError {
        APIError(.tooManyRequests, message, headers: [.retryAfter: String(max(1, seconds))])
    }

    /// Maps the store's errors to statuses; messages are already written for people.
    static func from(_ error: StoreError) -> APIError {
        switch error {
        case .notFound: return APIError(.notFound, error.description)
        case .alreadyExists, .conflict: return APIError(.conflict, error.description)
        case .invalid: return APIError(.badRequest, error.description)
        case _ where error.isBusy: return APIError(.serviceUnavailable, error.description, headers: [.retryAfter: "1"])
        default: return APIError(.internalServerError, error.description)
        }
    }
}

enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ body: JSONValue, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body.serialized)))
    }

    static func noContent(headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.cacheControl] = "no-store"
        return Response(status: .noContent, headers: headers)
    }
}

extension HTTPResponse.Status {
    /// 423 (WebDAV's Locked): the registration window is closed.
    static let locked = HTTPResponse.Status(code: 423, reasonPhrase: "Locked")
}
