import AuthCore
import Crypto
import Foundation
import Testing
import X509
@testable import CWAuthCA

// What the registration door and `cwauth cert issue` accept as a CSR, and what the CA makes of it.
@Suite struct CSRCheckTests {
    static func csr(_ subject: DistinguishedName, key: P256.Signing.PrivateKey = P256.Signing.PrivateKey()) throws -> String {
        try CertificateSigningRequest(version: .v1, subject: subject, privateKey: Certificate.PrivateKey(key),
                                      attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256).serializeAsPEM().pemString
    }

    static func named(_ cn: String) throws -> String { try csr(DistinguishedName { CommonName(cn) }) }

    @Test func aRequestForTheUsernameIsAccepted() throws {
        let key = P256.Signing.PrivateKey()
        let pem = try Self.csr(DistinguishedName { CommonName("sensor-42") }, key: key)
        let checked = try CSRCheck.validate(pem: pem, username: "sensor-42")
        #expect(checked.commonName == "sensor-42")
        // The SubjectPublicKeyInfo DER, as openssl computes it (the e2e tests compare with openssl itself).
        #expect(checked.publicKeyFingerprint == Fingerprint.hex(SHA256.hash(data: key.publicKey.derRepresentation)))
        #expect(checked.publicKeyFingerprint.count == 64)
    }

    @Test func aWrongCommonNameIsRefusedNamingBoth() throws {
        #expect(throws: CSRError.commonNameMismatch(commonName: "sensor-43", username: "sensor-42")) {
            try CSRCheck.validate(pem: try Self.named("sensor-43"), username: "sensor-42")
        }
        let message = CSRError.commonNameMismatch(commonName: "sensor-43", username: "sensor-42").description
        #expect(message.contains("\"sensor-43\"") && message.contains("\"sensor-42\""))
    }

    @Test func anEmptyOrMissingCommonNameIsRefused() throws {
        #expect(throws: CSRError.emptyCommonName) { try CSRCheck.validate(pem: try Self.named(""), username: "sensor-42") }
        let noCN = try Self.csr(DistinguishedName { OrganizationName("acme") })
        #expect(throws: CSRError.noCommonName) { try CSRCheck.validate(pem: noCN, username: "sensor-42") }
        let twoCNs = try Self.csr(DistinguishedName { CommonName("sensor-42"); CommonName("sensor-43") })
        #expect(throws: CSRError.severalCommonNames) { try CSRCheck.validate(pem: twoCNs, username: "sensor-42") }
    }

    @Test func aBadSignatureIsRefused() throws {
        // A request carrying one key but signed by another: whoever sent it does not hold the key.
        let signer = P256.Signing.PrivateKey()
        let claimed = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName("sensor-42") }
        let signed = try CertificateSigningRequest(version: .v1, subject: subject, privateKey: Certificate.PrivateKey(signer),
                                                   attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        let forged = try CertificateSigningRequest(version: .v1, subject: subject, publicKey: Certificate.PublicKey(claimed.publicKey),
                                                   attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256,
                                                   signature: signed.signature)
        #expect(throws: CSRError.badSignature) {
            try CSRCheck.validate(pem: try forged.serializeAsPEM().pemString, username: "sensor-42")
        }
    }

    @Test(arguments: ["", "garbage", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"])
    func garbageIsRefusedAsNotPEM(_ text: String) {
        #expect {
            try CSRCheck.validate(pem: text, username: "sensor-42")
        } throws: { error in
            guard let error = error as? CSRError, case .notPEM = error else { return false }
            return true
        }
    }

    @Test func anOversizedRequestIsNotParsed() {
        let huge = String(repeating: "A", count: CSRCheck.maxBytes + 1)
        #expect(throws: CSRError.tooLarge(bytes: CSRCheck.maxBytes + 1)) { try CSRCheck.validate(pem: huge, username: "x") }
    }

    @Test func theCAIssuesAClientCertificateAndReloadsItsKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cwauth-ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keyPath = dir + "/ca.key"
        let ca = try CertificateAuthority.create(subject: "test CA", days: 30, certificateDays: 7, keyPath: keyPath)
        let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(throws: CAError.self) { try CertificateAuthority.create(subject: "again", days: 30, certificateDays: 7, keyPath: keyPath) }

        let loaded = try CertificateAuthority.load(ca.record)
        #expect(loaded.fingerprint == ca.fingerprint)
        let issued = try loaded.issue(try CSRCheck.validate(pem: try Self.named("cam-1"), username: "cam-1"))
        #expect(issued.username == "cam-1")
        #expect(issued.notAfter - issued.notBefore == 7 * 86400 + 300)
        let cert = try Certificate(pemEncoded: issued.pem)
        #expect(cert.issuer == ca.certificate.subject)
        #expect(ca.certificate.publicKey.isValidSignature(cert.signature, for: cert))
        #expect(try cert.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
        #expect(try cert.extensions.basicConstraints == .notCertificateAuthority)
        #expect(CertificateAuthority.fingerprint(cert) == issued.fingerprint)
        #expect(DistinguishedNameCN.of(cert) == "cam-1")

        // The database's certificate with somebody else's key is refused.
        let other = dir + "/other.key"
        _ = try CertificateAuthority.create(subject: "other", days: 30, certificateDays: 7, keyPath: other)
        var swapped = ca.record
        swapped.keyPath = other
        #expect(throws: CAError.keyDoesNotMatch(path: other)) { try CertificateAuthority.load(swapped) }
    }
}

enum DistinguishedNameCN {
    static func of(_ cert: Certificate) -> String? { CSRCheck.commonNames(cert.subject).first ?? nil }
}
