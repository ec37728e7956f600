import AuthCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import CWAuthServer

@Suite("roles API")
struct RoleRouteTests {
    @Test func createWithPermissionsShowAndList() async throws {
        try await Fixture().test { client async throws in
            let created = try await client.call(.post, "/api/roles", .admin, json: """
                {"name":"sensor-writer","permissions":[
                  {"resource":"factory/+/telemetry/#","operation":"write"},
                  {"resource":"/api/client-registry/#","operation":"read","context":"http"}]}
                """)
            #expect(created.status == .created)
            #expect(created.json == [
                "name": "sensor-writer",
                "permissions": [
                    ["resource": "/api/client-registry/#", "operation": "read", "context": "http"],
                    ["resource": "factory/+/telemetry/#", "operation": "write", "context": "mqtt"],
                ],
            ])
            #expect(try await client.call(.get, "/api/roles/sensor-writer", .admin).json == created.json)
            let list = try await client.call(.get, "/api/roles", .admin)
            #expect(list.json?.names == ["admin", "sensor", "sensor-writer", "viewer"])
        }
    }

    @Test func createErrorsLeaveNothingBehind() async throws {
        try await Fixture().test { client async throws in
            func post(_ json: String) async throws -> Reply { try await client.call(.post, "/api/roles", .admin, json: json) }
            let exists = try await post(#"{"name":"sensor"}"#)
            #expect(exists.status == .conflict)
            #expect(exists.error == #"role "sensor" already exists"#)
            let name = try await post(#"{"name":"two words"}"#)
            #expect(name.status == .badRequest)
            #expect(name.error?.hasPrefix("name: ") == true)
            let resource = try await post(#"{"name":"r1","permissions":[{"resource":"a/#/b","operation":"read"}]}"#)
            #expect(resource.status == .badRequest)
            #expect(resource.error?.hasPrefix("permissions[0].resource: ") == true)
            let op = try await post(#"{"name":"r1","permissions":[{"resource":"a","operation":"read"},{"resource":"b","operation":"all"}]}"#)
            #expect(op.error == "permissions[1].operation: must be read, write or readWrite")
            let context = try await post(#"{"name":"r1","permissions":[{"resource":"a","operation":"read","context":"amqp"}]}"#)
            #expect(context.error == "permissions[0].context: must be mqtt or http")
            let field = try await post(#"{"name":"r1","permissions":[{"resource":"a","operation":"read","qos":1}]}"#)
            #expect(field.error?.hasPrefix("permissions[0].qos: unknown field") == true)
            let list = try await client.call(.get, "/api/roles", .admin)
            #expect(list.json?.names == ["admin", "sensor", "viewer"])
        }
    }

    @Test func showAndDelete() async throws {
        try await Fixture().test { client async throws in
            #expect(try await client.call(.get, "/api/roles/nope", .admin).status == .notFound)
            #expect(try await client.call(.delete, "/api/roles/nope", .admin).status == .notFound)
            #expect(try await client.call(.delete, "/api/roles/sensor", .admin).status == .noContent)
            #expect(try await client.call(.get, "/api/roles/sensor", .admin).status == .notFound)
            let device = try await client.call(.get, "/api/users/device", .admin)
            #expect(device.strings("roles") == [])
        }
    }

    @Test func grantAndRevoke() async throws {
        try await Fixture().test { client async throws in
            let granted = try await client.call(.post, "/api/roles/sensor/permissions", .admin,
                                                json: #"{"resource":"probe/#","operation":"readWrite"}"#)
            #expect(granted.status == .ok)
            #expect(granted.json?["permissions"] == [
                ["resource": "probe/#", "operation": "readWrite", "context": "mqtt"],
                ["resource": "sensors/%u/#", "operation": "write", "context": "mqtt"],
            ])
            // Same resource and context: granting adds up, it never takes access away...
            let same = try await client.call(.post, "/api/roles/sensor/permissions", .admin,
                                             json: #"{"resource":"probe/#","operation":"read","context":"mqtt"}"#)
            #expect(same.json?["permissions"] == granted.json?["permissions"])
            // ...and DELETE with ?operation= takes one part away.
            let narrowed = try await client.call(.delete, "/api/roles/sensor/permissions?resource=probe/%23&operation=write", .admin)
            #expect(narrowed.json?["permissions"] == [
                ["resource": "probe/#", "operation": "read", "context": "mqtt"],
                ["resource": "sensors/%u/#", "operation": "write", "context": "mqtt"],
            ])
            #expect(try await client.call(.post, "/api/roles/nope/permissions", .admin,
                                          json: #"{"resource":"x","operation":"read"}"#).status == .notFound)
            let bad = try await client.call(.post, "/api/roles/sensor/permissions", .admin, json: #"{"resource":"x"}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.error == "operation: is required")

            let revoked = try await client.call(.delete, "/api/roles/sensor/permissions?resource=probe%2F%23&context=mqtt", .admin)
            #expect(revoked.status == .ok)
            #expect(revoked.json?["permissions"] == [["resource": "sensors/%u/#", "operation": "write", "context": "mqtt"]])
            let again = try await client.call(.delete, "/api/roles/sensor/permissions?resource=probe%2F%23", .admin)
            #expect(again.status == .notFound)
            let missing = try await client.call(.delete, "/api/roles/sensor/permissions", .admin)
            #expect(missing.status == .badRequest)
            #expect(missing.error?.hasPrefix("resource: ") == true)
            let context = try await client.call(.delete, "/api/roles/sensor/permissions?resource=x&context=smtp", .admin)
            #expect(context.error == "context: must be mqtt or http")
            #expect(try await client.call(.delete, "/api/roles/nope/permissions?resource=x", .admin).status == .notFound)
        }
    }
}
