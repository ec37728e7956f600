import AuthCore
import Crypto
import Foundation
import SwiftASN1
import Testing
import X509
@testable import CWAuthCA

// The CRL as a consumer parses it: RFC 5280 structure, the CA's signature over the TBS bytes,
// the revoked serials and dates, and Time encoded as the RFC requires on both sides of 2050.
@Suite struct RevocationListTests {
    static func authority(now: Date) throws -> CertificateAuthority {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cwauth-crl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try CertificateAuthority.create(subject: "test CA", days: 36500, certificateDays: 30,
                                               keyPath: dir.appendingPathComponent("ca.key").path, now: now)
    }

    static func revoked(_ serial: String, at: Int64) -> IssuedCertificate {
        IssuedCertificate(username: "dev-\(serial)", serial: serial, fingerprint: "", notBefore: 0, notAfter: 0,
                          revokedAt: at, pem: "")
    }

    struct Parsed {
        var tbs: [UInt8]
        var version: Int
        var issuer: DistinguishedName
        var times: [ASN1Identifier]
        var serials: [[UInt8]]
        var signature: [UInt8]
    }

    static func parse(_ der: [UInt8]) throws -> Parsed {
        let root = try DER.parse(der)
        guard case .constructed(let top) = root.content else { throw ASN1Error.unexpectedFieldType(root.identifier) }
        var parts = top.makeIterator()
        let tbsNode = parts.next()!
        _ = parts.next()  // algorithm
        let signature = try ASN1BitString(derEncoded: parts.next()!)
        guard case .constructed(let fields) = tbsNode.content else { throw ASN1Error.unexpectedFieldType(tbsNode.identifier) }
        var it = fields.makeIterator()
        let version = try Int(derEncoded: it.next()!)
        _ = it.next()  // signature algorithm
        let issuer = try DistinguishedName(derEncoded: it.next()!)
        let thisUpdate = it.next()!, nextUpdate = it.next()!
        var serials: [[UInt8]] = []
        var node = it.next()!
        if node.identifier == .sequence, case .constructed(let entries) = node.content {
            for entry in entries {
                guard case .constructed(let pair) = entry.content else { continue }
                var p = pair.makeIterator()
                serials.append(Array(try ArraySlice<UInt8>(derEncoded: p.next()!)))
            }
            node = it.next()!
        }
        #expect(node.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific))
        var serializer = DER.Serializer()
        serializer.serialize(tbsNode)
        return Parsed(tbs: serializer.serializedBytes, version: version, issuer: issuer,
                      times: [thisUpdate.identifier, nextUpdate.identifier], serials: serials,
                      signature: Array(signature.bytes))
    }

    @Test func theListIsSignedByTheCAAndNamesEveryRevokedSerial() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let ca = try Self.authority(now: now)
        let list = try ca.revocationList([Self.revoked("0a0b", at: 1_799_000_100), Self.revoked("7f01", at: 1_799_000_000)],
                                         days: 7, now: now)
        #expect(list.entries == 2)
        #expect(list.nextUpdate.timeIntervalSince(list.thisUpdate) == 7 * 86400)
        let parsed = try Self.parse(list.der)
        #expect(parsed.version == 1)
        #expect(parsed.issuer == ca.certificate.subject)
        #expect(parsed.times == [.utcTime, .utcTime])
        #expect(parsed.serials == [[0x7f, 0x01], [0x0a, 0x0b]], "oldest revocation first")
        let key = try #require(P256.Signing.PublicKey(ca.certificate.publicKey))
        let signature = try P256.Signing.ECDSASignature(derRepresentation: parsed.signature)
        #expect(key.isValidSignature(signature, for: parsed.tbs))
        #expect(list.pem.hasPrefix("-----BEGIN X509 CRL-----\n") && list.pem.hasSuffix("-----END X509 CRL-----\n"))
    }

    @Test func anEmptyListLeavesTheEntriesOutAndLaterListsGetLargerNumbers() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let ca = try Self.authority(now: now)
        let first = try ca.revocationList([], now: now)
        let second = try ca.revocationList([], now: now.addingTimeInterval(0.5))
        #expect(try Self.parse(first.der).serials.isEmpty)
        #expect(second.number > first.number)
    }

    @Test func datesFrom2050AreGeneralizedTime() throws {
        let now = Date(timeIntervalSince1970: 2_524_000_000)  // late 2049
        let ca = try Self.authority(now: now)
        let list = try ca.revocationList([], days: 30, now: now)
        #expect(try Self.parse(list.der).times == [.utcTime, .generalizedTime])
    }

    @Test func badInputIsRefusedWithTheReason() throws {
        let ca = try Self.authority(now: Date())
        #expect(throws: CAError.invalid("CRL validity must be 1–365 days, not 0")) { try ca.revocationList([], days: 0) }
        #expect(throws: CAError.self) { try ca.revocationList([Self.revoked("xyz", at: 1)]) }
    }
}
