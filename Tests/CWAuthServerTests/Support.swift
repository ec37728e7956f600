import AuthCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import CWAuthServer

/// A fresh database with three kinds of callers: `admin` (http /api/# readWrite), `viewer` (http /api/#
/// read only) and `device` (mqtt permissions only), plus a role `sensor` to hand out.
final class Fixture: Sendable {
    static let admin = ("admin", "admin-pw-1")
    static let viewer = ("viewer", "viewer-pw-1")
    static let device = ("device", "device-pw-1")

    let directory: String
    let databasePath: String
    let state: ServerState

    init(options: ServerState.Options = ServerState.Options(registerPerUsernameIntervalNanos: 0)) throws {
        var template = Array("/tmp/cwauth-server-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw FixtureError("mkdtemp failed") }
        directory = String(cString: made)
        databasePath = directory + "/cwauth.db"
        let (store, _) = try Store.initialize(path: databasePath, actor: "test")
        try store.addRole("admin")
        try store.grant("admin", Permission(resource: "/api/#", operation: .readWrite, context: .http))
        try store.addRole("viewer")
        try store.grant("viewer", Permission(resource: "/api/#", operation: .read, context: .http))
        try store.addRole("sensor")
        try store.grant("sensor", Permission(resource: "sensors/%u/#", operation: .write))
        for (name, password, role) in [(Self.admin.0, Self.admin.1, "admin"), (Self.viewer.0, Self.viewer.1, "viewer"),
                                       (Self.device.0, Self.device.1, "sensor")] {
            try store.addUser(User(username: name, passwordHash: PasswordHash.make(password: password, iterations: 1000).encoded,
                                   roles: [role]))
        }
        state = try ServerState(databasePath: databasePath, options: options)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A second connection, as the CLI or the broker would have, to check what the server wrote.
    func store() throws -> Store {
        try Store(path: databasePath, actor: "test-check")
    }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = Application(router: CWAuthServer.makeRouter(state: state))
        try await app.test(.router) { client in try await body(client) }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// How a test request proves who it is.
enum Credentials: Sendable {
    case basic(String, String)
    case bearer(String)
    /// The session cookie, with the X-CSRF-Token header when a token is given.
    case cookie(String, csrf: String?)

    static let admin = Credentials.basic(Fixture.admin.0, Fixture.admin.1)
    static let viewer = Credentials.basic(Fixture.viewer.0, Fixture.viewer.1)
    static let device = Credentials.basic(Fixture.device.0, Fixture.device.1)

    var headers: HTTPFields {
        switch self {
        case let .basic(user, password):
            return [.authorization: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
        case let .bearer(token):
            return [.authorization: "Bearer \(token)"]
        case let .cookie(token, csrf):
            var fields: HTTPFields = [.cookie: "cwauth_session=\(token)"]
            if let csrf { fields[HTTPField.Name("X-CSRF-Token")!] = csrf }
            return fields
        }
    }
}

/// A response as the tests look at it.
struct Reply: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String

    var json: JSONValue? { JSONValue.parse(Array(text.utf8)) }
    var error: String? {
        if case let .string(message)? = json?["error"] { return message }
        return nil
    }

    func string(_ key: String) -> String? {
        if case let .string(value)? = json?[key] { return value }
        return nil
    }

    func strings(_ key: String) -> [String]? {
        guard case let .array(items)? = json?[key] else { return nil }
        return items.compactMap { if case let .string(s) = $0 { return s } else { return nil } }
    }

    var array: [JSONValue] {
        if case let .array(items)? = json { return items }
        return []
    }
}

extension TestClientProtocol {
    func call(_ method: HTTPRequest.Method, _ uri: String, _ credentials: Credentials? = nil, json: String? = nil,
              headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = credentials?.headers ?? [:]
        headers.append(contentsOf: extra)
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers,
                                 body: json.map { ByteBuffer(string: $0) }) { response in
            Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    /// Logs in and returns the bearer token.
    func token(_ user: (String, String) = Fixture.admin) async throws -> String {
        let reply = try await call(.post, "/api/auth/login", json: #"{"username":"\#(user.0)","password":"\#(user.1)"}"#)
        guard reply.status == .ok, let token = reply.string("token") else { throw FixtureError("login failed: \(reply.text)") }
        return token
    }

    /// Logs in with a browser session; returns the cookie's token and the CSRF token.
    func session(_ user: (String, String) = Fixture.admin) async throws -> (cookie: String, csrf: String) {
        let reply = try await call(.post, "/api/auth/login",
                                   json: #"{"username":"\#(user.0)","password":"\#(user.1)","session":true}"#)
        guard reply.status == .ok, let csrf = reply.string("csrfToken"), let setCookie = reply.headers[.setCookie],
              let value = setCookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last
        else { throw FixtureError("session login failed: \(reply.text)") }
        return (String(value), csrf)
    }
}

extension JSONValue {
    /// The names of objects in an array that have a "username" or "name" key.
    var names: [String] {
        guard case let .array(items) = self else { return [] }
        return items.compactMap { item in
            if case let .string(name)? = item["username"] ?? item["name"] { return name }
            return nil
        }
    }
}
