import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import CWAuthServer

@Suite("OpenAPI document")
struct OpenAPITests {
    /// Operations (method + path) the document lists.
    static func documentedOperations() throws -> Set<String> {
        let document = try #require(JSONValue.parse(Array(OpenAPIDocument.text.utf8)))
        #expect(document["openapi"] == "3.0.3")
        guard case let .object(paths)? = document["paths"] else { throw FixtureError("no paths") }
        var operations: Set<String> = []
        for (path, item) in paths {
            guard case let .object(members) = item else { continue }
            for (method, _) in members where method != "parameters" { operations.insert("\(method.uppercased()) \(path)") }
        }
        return operations
    }

    @Test func everyRouteIsDocumentedAndNothingElse() throws {
        let routes = Set(APIRoutes.all.map { "\($0.method.rawValue) \($0.openAPIPath)" })
        #expect(routes.count == APIRoutes.all.count, "a route is registered twice")
        let documented = try Self.documentedOperations()
        #expect(routes.subtracting(documented).sorted() == [], "routes missing from docs/openapi.json")
        #expect(documented.subtracting(routes).sorted() == [], "documented operations the server does not have")
    }

    /// Every admin route's (and /metrics') documented responses include 401 and 403; open routes declare no security.
    @Test func securityMatchesTheRoutes() throws {
        let document = try #require(JSONValue.parse(Array(OpenAPIDocument.text.utf8)))
        for endpoint in APIRoutes.all {
            let operation = try #require(document["paths"]?[endpoint.openAPIPath]?[endpoint.method.rawValue.lowercased()])
            if endpoint.access != .open {
                #expect(operation["responses"]?["401"] != nil, "\(endpoint.path)")
                #expect(operation["responses"]?["403"] != nil, "\(endpoint.path)")
            } else {
                #expect(operation["security"] == [], "\(endpoint.path) needs no admin credentials")
            }
        }
    }

    @Test func servedWithoutCredentials() async throws {
        try await Fixture().test { client async throws in
            let reply = try await client.call(.get, "/api/openapi.json")
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(reply.text == OpenAPIDocument.text)
        }
    }
}

@Suite("web page and response headers")
struct WebTests {
    @Test func rootRedirectsToTheRegistryPage() async throws {
        try await Fixture().test { client async throws in
            let reply = try await client.call(.get, "/")
            #expect(reply.status == .found)
            #expect(reply.headers[.location] == "/registry")
        }
    }

    @Test func unknownPagesAndEndpointsAreJSON404s() async throws {
        try await Fixture().test { client async throws in
            let page = try await client.call(.get, "/no-such-page")
            #expect(page.status == .notFound)
            #expect(page.error == "no page at /no-such-page")
            let endpoint = try await client.call(.get, "/api/no-such-thing", .admin)
            #expect(endpoint.status == .notFound)
            #expect(endpoint.error == "no such endpoint: GET /api/no-such-thing")
            let method = try await client.call(.patch, "/api/users", .admin)
            #expect(method.status == .notFound)
        }
    }

    @Test func pagesComeFromWebAssets() async throws {
        try await Fixture().test { client async throws in
            for path in ["/login", "/registry", "/static/app.js"] {
                let reply = try await client.call(.get, path)
                let asset = WebAssets.asset(for: path)
                #expect(reply.status == (asset == nil ? .notFound : .ok), "\(path)")
                if let asset {
                    #expect(reply.text == asset.body)
                    #expect(reply.headers[.contentType] == asset.contentType)
                }
            }
        }
    }

    @Test func securityHeadersOnEveryResponse() async throws {
        try await Fixture().test { client async throws in
            for reply in [try await client.call(.get, "/api/users"), try await client.call(.get, "/api/users", .admin),
                          try await client.call(.get, "/login")] {
                #expect(reply.headers[HTTPField.Name("Content-Security-Policy")!] == "default-src 'self'")
                #expect(reply.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            }
        }
    }
}

@Suite("audit API")
struct AuditRouteTests {
    @Test func pagesNewestFirst() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            for _ in 0..<3 { #expect(try await client.call(.post, "/api/client-registry/lock", .admin).status == .ok) }
            let first = try await client.call(.get, "/api/audit?limit=2", .admin)
            #expect(first.status == .ok)
            guard case let .array(entries)? = first.json?["entries"], entries.count == 2,
                  case let .int(next)? = first.json?["next"] else { Issue.record("bad page: \(first.text)"); return }
            #expect(entries[0]["action"] == "registry.lock")
            #expect(entries[0]["actor"] == "http:admin")
            #expect(entries[0]["target"] == "registry")
            guard case let .int(newest)? = entries[0]["id"], case let .int(second)? = entries[1]["id"] else { return }
            #expect(newest > second && next == second)
            let rest = try await client.call(.get, "/api/audit?limit=500&before=\(next)", .admin)
            guard case let .array(older)? = rest.json?["entries"] else { Issue.record("bad page"); return }
            #expect(older.first?["id"] == .int(second - 1))
            #expect(rest.json?["next"] == .null)
        }
    }

    @Test func badQueries() async throws {
        try await Fixture().test { client async throws in
            let zero = try await client.call(.get, "/api/audit?limit=0", .admin)
            #expect(zero.error == "limit: must be between 1 and 500")
            let letters = try await client.call(.get, "/api/audit?limit=abc", .admin)
            #expect(letters.error == "limit: must be an integer")
            #expect(try await client.call(.get, "/api/audit?before=-1", .admin).status == .badRequest)
            #expect(try await client.call(.get, "/api/audit").status == .unauthorized)
            #expect(try await client.call(.get, "/api/audit", .device).status == .forbidden)
        }
    }
}
