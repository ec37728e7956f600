import AuthCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import CWAuthServer

@Suite("the last admin")
struct LastAdminRouteTests {
    @Test func everyRouteThatWouldRemoveTheLastAdminIs409() async throws {
        let fixture = try Fixture()
        try await fixture.test { client async throws in
            let refused: [(HTTPRequest.Method, String, String?)] = [
                (.delete, "/api/users/admin/roles/admin", nil),
                (.delete, "/api/roles/admin", nil),
                (.delete, "/api/users/admin", nil),
                (.put, "/api/users/admin/enabled", #"{"enabled":false}"#),
                (.delete, "/api/roles/admin/permissions?resource=/api/%23&context=http", nil),
                (.delete, "/api/roles/admin/permissions?resource=/api/%23&context=http&operation=write", nil),
            ]
            for (method, path, json) in refused {
                let reply = try await client.call(method, path, .admin, json: json)
                #expect(reply.status == .conflict, "\(method) \(path): \(reply.text)")
                #expect(reply.error?.contains("\"admin\" is the last admin") == true, "\(method) \(path): \(reply.text)")
            }
            #expect(try fixture.store().adminUsernames() == ["admin"])
            // With a second admin the same call goes through.
            #expect(try await client.call(.put, "/api/users/viewer/roles/admin", .admin).status == .ok)
            let removed = try await client.call(.delete, "/api/users/admin/roles/admin", .admin)
            #expect(removed.status == .ok || removed.status == .noContent, "\(removed.text)")
            #expect(try fixture.store().adminUsernames() == ["viewer"])
        }
    }
}
