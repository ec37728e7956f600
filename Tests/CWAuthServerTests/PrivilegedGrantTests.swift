import AuthCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import CWAuthServer

@Suite("granting privileged roles to a registered device")
struct PrivilegedGrantTests {
    @Test func privilegedRolesNeedAnExplicitConfirmation() async throws {
        let fixture = try Fixture()
        let store = try fixture.store()
        try store.addRole("ops")
        try store.grant("ops", Permission(resource: "+/#", operation: .read))
        try store.addRole("plant")
        try store.grant("plant", Permission(resource: "plant/#", operation: .readWrite))
        try store.unlockRegistry(seconds: 300)
        try await fixture.test { client async throws in
            let device = #"{"username":"intruder","password":"intruder-pw","roles":["admin","ops"]}"#
            #expect(try await client.call(.post, "/api/client-registry/register", json: device).status == .accepted)
            let path = "/api/client-registry/pending/intruder/allow"

            let refused = try await client.call(.post, path, .admin, json: #"{"roles":["admin","ops","plant"]}"#)
            #expect(refused.status == .conflict)
            #expect(refused.error?.contains(#"roles "admin", "ops" are privileged"#) == true, "\(refused.text)")
            #expect(refused.error?.contains(#""confirmPrivileged": true"#) == true)
            let one = try await client.call(.post, path, .admin, json: #"{"roles":["admin"],"confirmPrivileged":false}"#)
            #expect(one.status == .conflict)
            #expect(one.error?.contains(#"role "admin" is privileged"#) == true, "\(one.text)")
            #expect(try fixture.store().user(named: "intruder") == nil, "nothing granted, still pending")
            #expect(try fixture.store().pendingRequest("intruder") != nil)

            let confirmed = try await client.call(.post, path, .admin,
                                                  json: #"{"roles":["admin","ops","plant"],"confirmPrivileged":true}"#)
            #expect(confirmed.status == .created, "\(confirmed.text)")
            #expect(try fixture.store().user(named: "intruder")?.roles == ["admin", "ops", "plant"])
        }
    }

    @Test func ordinaryRolesNeedNoConfirmation() async throws {
        let fixture = try Fixture()
        try fixture.store().unlockRegistry(seconds: 300)
        try await fixture.test { client async throws in
            let device = #"{"username":"sensor-7","password":"sensor-pw","roles":["sensor"]}"#
            #expect(try await client.call(.post, "/api/client-registry/register", json: device).status == .accepted)
            let allowed = try await client.call(.post, "/api/client-registry/pending/sensor-7/allow", .admin,
                                                json: #"{"roles":["sensor"]}"#)
            #expect(allowed.status == .created, "\(allowed.text)")
        }
    }

    @Test func whatCountsAsPrivileged() {
        for resource in ["#", "+/#", "+/+/#"] { #expect(RegistryRoutes.Privilege.isCatchAll(resource), "\(resource)") }
        for resource in ["a/#", "+/a/#", "+", "+/+", "a/+/#", "/#"] { #expect(!RegistryRoutes.Privilege.isCatchAll(resource), "\(resource)") }
        #expect(RegistryRoutes.Privilege.isPrivileged(Role(name: "r", permissions: [
            Permission(resource: "/api/client-registry/#", operation: .read, context: .http)])))
        #expect(!RegistryRoutes.Privilege.isPrivileged(Role(name: "r", permissions: [
            Permission(resource: "sensors/%u/#", operation: .write)])))
    }
}
