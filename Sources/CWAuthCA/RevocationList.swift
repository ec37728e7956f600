import AuthCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate revocation list (RFC 5280 §5, v2) of every certificate cwauth revoked, signed by
/// the CA, for consumers other than the broker (which admits only recorded, unrevoked certificates
/// and needs none). swift-certificates has no CRL type, so the few structures are written here
/// with SwiftASN1; `openssl crl -verify` and a TLS stack's `crl_check` read the result.
public struct RevocationList: Sendable {
    /// DER of the signed `CertificateList`.
    public let der: [UInt8]
    /// The CRL number: milliseconds since 1970 at `thisUpdate`, so every later list has a larger one
    /// without a counter kept in the database.
    public let number: Int64
    public let thisUpdate: Date
    public let nextUpdate: Date
    public let entries: Int

    public static let defaultDays = 30
    public static let daysRange = 1...365

    public var pem: String { PEMDocument(type: "X509 CRL", derBytes: der).pemString + "\n" }
}

extension CertificateAuthority {
    /// Signs a list of `revoked` (the store's revoked certificates). `nextUpdate` is `days` after `now`:
    /// a consumer that checks CRLs refuses every certificate once it has passed, so the list must be
    /// written again before then.
    public func revocationList(_ revoked: [IssuedCertificate], days: Int = RevocationList.defaultDays,
                               now: Date = Date()) throws(CAError) -> RevocationList {
        guard RevocationList.daysRange.contains(days) else {
            throw .invalid("CRL validity must be \(RevocationList.daysRange.lowerBound)–\(RevocationList.daysRange.upperBound) days, not \(days)")
        }
        let thisUpdate = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let nextUpdate = thisUpdate.addingTimeInterval(Double(days) * 86400)
        let number = Int64(now.timeIntervalSince1970 * 1000)
        do {
            let entries = try revoked.sorted { ($0.revokedAt ?? 0, $0.serial) < ($1.revokedAt ?? 0, $1.serial) }.map { cert in
                guard let serial = Fingerprint.bytes(hex: cert.serial), !serial.isEmpty else {
                    throw CAError.invalid("certificate of \(cert.username) has a malformed serial \"\(cert.serial)\" in the database")
                }
                return RevokedEntry(serial: serial, revokedAt: Date(timeIntervalSince1970: Double(cert.revokedAt ?? 0)))
            }
            let keyID = try certificate.extensions.subjectKeyIdentifier?.keyIdentifier
            let tbs = TBSCertList(issuer: certificate.subject, thisUpdate: thisUpdate, nextUpdate: nextUpdate,
                                  revoked: entries,
                                  extensions: [try AuthorityKeyIdentifier(keyIdentifier: keyID).makeCertificateExtension(),
                                               try Self.crlNumber(number)])
            var tbsCoder = DER.Serializer()
            try tbsCoder.serialize(tbs)
            let signature = try signingKey.signature(for: tbsCoder.serializedBytes).derRepresentation
            var coder = DER.Serializer()
            try coder.appendConstructedNode(identifier: .sequence) { coder in
                coder.serializeRawBytes(tbsCoder.serializedBytes)
                try coder.serialize(ECDSAWithSHA256())
                try coder.serialize(ASN1BitString(bytes: ArraySlice(signature)))
            }
            return RevocationList(der: coder.serializedBytes, number: number, thisUpdate: thisUpdate,
                                  nextUpdate: nextUpdate, entries: entries.count)
        } catch let error as CAError {
            throw error
        } catch {
            throw .signing(String(describing: error))
        }
    }

    /// Extension cRLNumber (2.5.29.20): a non-critical INTEGER.
    static func crlNumber(_ number: Int64) throws -> Certificate.Extension {
        var coder = DER.Serializer()
        try coder.serialize(number)
        return Certificate.Extension(oid: [2, 5, 29, 20], critical: false, value: ArraySlice(coder.serializedBytes))
    }
}

/// ```
/// TBSCertList ::= SEQUENCE {
///   version Version (v2), signature AlgorithmIdentifier, issuer Name,
///   thisUpdate Time, nextUpdate Time,
///   revokedCertificates SEQUENCE OF SEQUENCE { userCertificate, revocationDate } OPTIONAL,
///   crlExtensions [0] EXPLICIT Extensions }
/// ```
private struct TBSCertList: DERSerializable {
    var issuer: DistinguishedName
    var thisUpdate: Date
    var nextUpdate: Date
    var revoked: [RevokedEntry]
    var extensions: [Certificate.Extension]

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(1)  // v2: required once there are extensions
            try coder.serialize(ECDSAWithSHA256())
            try coder.serialize(issuer)
            try serializeTime(thisUpdate, into: &coder)
            try serializeTime(nextUpdate, into: &coder)
            // An empty list leaves the field out: DER has no empty SEQUENCE OF here.
            if !revoked.isEmpty { try coder.serializeSequenceOf(revoked) }
            try coder.serialize(explicitlyTaggedWithTagNumber: 0, tagClass: .contextSpecific) { coder in
                try coder.serializeSequenceOf(extensions)
            }
        }
    }
}

private struct RevokedEntry: DERSerializable {
    var serial: [UInt8]
    var revokedAt: Date

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize(ArraySlice(serial))
            try serializeTime(revokedAt, into: &coder)
        }
    }
}

/// AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), parameters absent (RFC 5758).
private struct ECDSAWithSHA256: DERSerializable {
    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { coder in
            try coder.serialize([1, 2, 840, 10045, 4, 3, 2] as ASN1ObjectIdentifier)
        }
    }
}

/// RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050, always whole seconds in UTC.
private func serializeTime(_ date: Date, into coder: inout DER.Serializer) throws {
    var seconds = time_t(date.timeIntervalSince1970)
    var parts = tm()
    guard gmtime_r(&seconds, &parts) != nil else { throw CAError.invalid("date out of range: \(date)") }
    let year = Int(parts.tm_year) + 1900, month = Int(parts.tm_mon) + 1, day = Int(parts.tm_mday)
    let hours = Int(parts.tm_hour), minutes = Int(parts.tm_min), secs = Int(parts.tm_sec)
    if year < 2050 {
        try coder.serialize(UTCTime(year: year, month: month, day: day, hours: hours, minutes: minutes, seconds: secs))
    } else {
        try coder.serialize(GeneralizedTime(year: year, month: month, day: day, hours: hours, minutes: minutes,
                                            seconds: secs, fractionalSeconds: 0))
    }
}
