import AuthCore
import CWAuthCA
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import CWAuthServer

// The registration door with a CSR: refused (400, naming why) unless its CN is the username and its
// signature verifies; recorded with its key's fingerprint; allowed, the poll gets the certificate.
@Suite("explicit registration with a CSR")
struct RegisterCertificateTests {
    /// Made with `openssl req -new -newkey ec ... -subj /CN=sensor-42` (and /CN=other).
    static let csr42 = """
-----BEGIN CERTIFICATE REQUEST-----
MIHOMHYCAQAwFDESMBAGA1UEAwwJc2Vuc29yLTQyMFkwEwYHKoZIzj0CAQYIKoZI
zj0DAQcDQgAEgjcA32BdobOl6Pa4B1/DV0AkZigedzbEFrroQSvdfS/mCpuC0/My
ZX1ZMmhGJ5AP39IaNKbHdjxTCx39Yg68SaAAMAoGCCqGSM49BAMCA0gAMEUCICpL
zqFhY/duGS5ZVjT0OSzk/nIh0qppuCHVdqTxUiGeAiEAvcsvMzLMUOHbyn8C8Igg
sfoRz+TbpneYxUg15M+6bQM=
-----END CERTIFICATE REQUEST-----
"""
    static let csrOther = """
-----BEGIN CERTIFICATE REQUEST-----
MIHKMHICAQAwEDEOMAwGA1UEAwwFb3RoZXIwWTATBgcqhkjOPQIBBggqhkjOPQMB
BwNCAARtD2io0y9iJzdzag7Hyt669JkOU37OZLcXJNli8Noz3NrmPUj5AaWv3JS/
JuNBx+aFdmwC0jmFk9B8KagCalISoAAwCgYIKoZIzj0EAwIDSAAwRQIhAI9gttbP
U5dphjJViP98A32L2lw2rfe8R5arVYiQ1ExDAiBDEOYyxWILh6mwL6lYbDoT3/iF
TKFs7dSqNS9R/wwzLg==
-----END CERTIFICATE REQUEST-----
"""

    static func body(_ csr: String, username: String = "sensor-42", password: String = "device-secret") -> String {
        let escaped = csr.replacingOccurrences(of: "\n", with: "\\n")
        return #"{"username":"\#(username)","password":"\#(password)","csr":"\#(escaped)"}"#
    }

    @Test func aCSRIsCheckedRecordedAndAnsweredWithTheCertificate() async throws {
        let fixture = try Fixture()
        let store = try fixture.store()
        try store.unlockRegistry(seconds: 300)
        let ca = try CertificateAuthority.create(subject: "test CA", days: 30, certificateDays: 10,
                                                 keyPath: fixture.directory + "/ca.key")
        try store.setCertificateAuthority(ca.record)
        try await fixture.test { client async throws in
            func register(_ body: String) async throws -> Reply {
                try await client.call(.post, "/api/client-registry/register", json: body)
            }
            let wrongName = try await register(Self.body(Self.csrOther))
            #expect(wrongName.status == .badRequest)
            #expect(wrongName.error?.contains("\"other\" is not the username \"sensor-42\"") == true)
            let garbage = try await register(Self.body("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"))
            #expect(garbage.status == .badRequest)
            #expect(garbage.error?.contains("not a PEM certificate signing request") == true)
            #expect(try fixture.store().pendingRequests().isEmpty)

            #expect(try await register(Self.body(Self.csr42)).status == .accepted)
            let status = try await client.call(.get, "/api/client-registry", .admin)
            guard case let .array(pending)? = status.json?["pending"], pending.count == 1 else {
                Issue.record("expected one pending request: \(status.text)"); return
            }
            let fingerprint = try CSRCheck.validate(pem: Self.csr42, username: "sensor-42").publicKeyFingerprint
            #expect(pending[0]["csrFingerprint"] == .string(fingerprint))

            #expect(try await client.call(.post, "/api/client-registry/pending/sensor-42/allow", .admin,
                                          json: #"{"roles":["sensor"]}"#).status == .created)
            let granted = try await register(Self.body(Self.csr42))
            #expect(granted.status == .created)
            #expect(granted.json?["grantType"] == "certificate")
            #expect(granted.json?["caCertificate"] == .string(ca.record.certificatePEM))
            guard case let .string(pem)? = granted.json?["certificate"] else {
                Issue.record("no certificate: \(granted.text)"); return
            }
            let summary = try CertificateSummary(pem: pem)
            #expect(summary.subject.contains("sensor-42"))
            let recorded = try fixture.store().listCertificates(username: "sensor-42")
            #expect(recorded.map(\.fingerprint) == [summary.fingerprint])
        }
        let user = try #require(try fixture.store().user(named: "sensor-42"))
        #expect(user.authMethod == .certificate)
        #expect(user.roles == ["sensor"])
    }

    @Test func allowingACSRRequestWithoutACAFailsAndAdmitsNobody() async throws {
        let fixture = try Fixture()
        try fixture.store().unlockRegistry(seconds: 300)
        try await fixture.test { client async throws in
            #expect(try await client.call(.post, "/api/client-registry/register", json: Self.body(Self.csr42)).status == .accepted)
            let allowed = try await client.call(.post, "/api/client-registry/pending/sensor-42/allow", .admin)
            #expect(allowed.status != .created)
            #expect(allowed.error?.contains("cwauth ca init") == true)
        }
        #expect(try fixture.store().user(named: "sensor-42") == nil)
        #expect(try fixture.store().pendingRequests().count == 1)
    }
}
