import AuthCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// Why the CA could not be created, loaded or used; each names the file or the fix.
public enum CAError: Error, Equatable, Sendable, CustomStringConvertible {
    case notInitialised(database: String)
    case keyFile(path: String, reason: String)
    case keyDoesNotMatch(path: String)
    case invalid(String)
    case signing(String)

    public var description: String {
        switch self {
        case let .notInitialised(database):
            return "no certificate authority in \(database): create one with cwauth ca init"
        case let .keyFile(path, reason):
            return "CA key \(path): \(reason)"
        case let .keyDoesNotMatch(path):
            return "CA key \(path) does not belong to the CA certificate in the database: restore the key file that cwauth ca init wrote"
        case let .invalid(reason):
            return reason
        case let .signing(reason):
            return "could not sign the certificate: \(reason)"
        }
    }
}

/// The cwauth certificate authority: a P-256 key in a file of its own (mode 0600) and a
/// self-signed certificate recorded in the database. The broker's TLS listener trusts it
/// (`cafile`), and every client certificate it issues is recorded, so the broker admits exactly
/// those (and not one the key signed otherwise, for instance after a key leak and a revoke).
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    public let record: CertificateAuthorityRecord
    private let key: Certificate.PrivateKey
    /// The same key, for what swift-certificates cannot sign itself (the CRL).
    let signingKey: P256.Signing.PrivateKey

    public static let defaultDays = 3650
    public static let defaultSubject = "cwauth device CA"

    /// Beside the database: `cwauth.db` → `cwauth-ca.key` in the same folder.
    public static func defaultKeyPath(database: String) -> String {
        let url = URL(fileURLWithPath: database).standardizedFileURL
        let stem = url.deletingPathExtension().lastPathComponent
        return url.deletingLastPathComponent().appendingPathComponent("\(stem)-ca.key").path
    }

    /// Makes a new key and self-signed certificate and writes the key to `keyPath`, which must not
    /// exist yet (an existing key is never overwritten). The caller records `record` in the store.
    public static func create(subject: String, days: Int, certificateDays: Int, keyPath: String,
                              now: Date = Date()) throws(CAError) -> CertificateAuthority {
        guard (1...36500).contains(days) else { throw .invalid("CA validity must be 1–36500 days, not \(days)") }
        guard CertificateAuthorityRecord.certificateDaysRange.contains(certificateDays) else {
            throw .invalid("certificate validity must be 1–3650 days, not \(certificateDays)")
        }
        guard !subject.isEmpty, !subject.contains(where: { $0.isNewline }) else {
            throw .invalid("CA subject must be a non-empty single line")
        }
        let privateKey = P256.Signing.PrivateKey()
        let key = Certificate.PrivateKey(privateKey)
        let certificate: Certificate
        do {
            let name = try DistinguishedName { CommonName(subject) }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            }
            certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: key.publicKey,
                notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(days) * 86400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: key)
        } catch {
            throw .signing(String(describing: error))
        }
        try writeKey(privateKey.pemRepresentation, to: keyPath)
        let pem: String
        do { pem = try certificate.serializeAsPEM().pemString } catch { throw .signing(String(describing: error)) }
        let record = CertificateAuthorityRecord(certificatePEM: pem, keyPath: keyPath, certificateDays: certificateDays,
                                                createdAt: Int64(now.timeIntervalSince1970))
        return CertificateAuthority(certificate: certificate, record: record, key: key, signingKey: privateKey)
    }

    /// The CA `store` names, with its key; `CAError.notInitialised` when there is none.
    public static func load(from store: Store) throws -> CertificateAuthority {
        guard let record = try store.certificateAuthority() else { throw CAError.notInitialised(database: store.path) }
        return try load(record)
    }

    /// The CA the database names, with its key read from its file (and checked against the certificate).
    public static func load(_ record: CertificateAuthorityRecord) throws(CAError) -> CertificateAuthority {
        let certificate: Certificate
        do { certificate = try Certificate(pemEncoded: record.certificatePEM) } catch {
            throw .invalid("the CA certificate in the database does not parse: \(error)")
        }
        let text: String
        do { text = try String(contentsOfFile: record.keyPath, encoding: .utf8) } catch {
            throw .keyFile(path: record.keyPath, reason: "cannot be read (\(error.localizedDescription)); "
                           + "run this command as the user that owns it, or restore it from where cwauth ca init wrote it")
        }
        let privateKey: P256.Signing.PrivateKey
        do { privateKey = try P256.Signing.PrivateKey(pemRepresentation: text) } catch {
            throw .keyFile(path: record.keyPath, reason: "is not a P-256 private key in PEM")
        }
        let key = Certificate.PrivateKey(privateKey)
        guard key.publicKey == certificate.publicKey else { throw .keyDoesNotMatch(path: record.keyPath) }
        return CertificateAuthority(certificate: certificate, record: record, key: key, signingKey: privateKey)
    }

    /// Lowercase hex SHA-256 of the CA certificate's DER.
    public var fingerprint: String { Self.fingerprint(certificate) }

    public static func fingerprint(_ certificate: Certificate) -> String {
        var serializer = DER.Serializer()
        do { try serializer.serialize(certificate) } catch { return "" }
        return Fingerprint.hex(SHA256.hash(data: serializer.serializedBytes))
    }

    /// A client certificate for `csr` (already checked: signature, CN = username): CN only,
    /// clientAuth, not a CA, valid for the CA's certificate days from five minutes ago (clock skew).
    public func issue(_ csr: ValidatedCSR, now: Date = Date()) throws(CAError) -> IssuedCertificate {
        let notBefore = now.addingTimeInterval(-300)
        var notAfter = now.addingTimeInterval(Double(record.certificateDays) * 86400)
        // Never past the CA itself: a chain check would refuse the certificate from then on anyway.
        if notAfter > certificate.notValidAfter { notAfter = certificate.notValidAfter }
        let serial = Certificate.SerialNumber()
        let issued: Certificate
        do {
            let subject = try DistinguishedName { CommonName(csr.commonName) }
            let caKeyID = try? certificate.extensions.subjectKeyIdentifier?.keyIdentifier
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.clientAuth])
                SubjectKeyIdentifier(hash: csr.request.publicKey)
                AuthorityKeyIdentifier(keyIdentifier: caKeyID ?? nil)
            }
            issued = try Certificate(
                version: .v3, serialNumber: serial, publicKey: csr.request.publicKey,
                notValidBefore: notBefore, notValidAfter: notAfter, issuer: certificate.subject, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: key)
        } catch {
            throw .signing(String(describing: error))
        }
        let pem: String
        do { pem = try issued.serializeAsPEM().pemString } catch { throw .signing(String(describing: error)) }
        return IssuedCertificate(username: csr.commonName, serial: Fingerprint.hex(serial.bytes),
                                 fingerprint: Self.fingerprint(issued),
                                 notBefore: Int64(notBefore.timeIntervalSince1970), notAfter: Int64(notAfter.timeIntervalSince1970),
                                 issuedAt: Int64(now.timeIntervalSince1970), pem: pem)
    }

    /// Exclusive create with mode 0600: a key already there is never replaced, and nobody but the
    /// owner can read the new one at any moment (no chmod after the write).
    static func writeKey(_ pem: String, to path: String) throws(CAError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = errno == EEXIST ? "already exists; cwauth never overwrites a CA key (move it away or give --key PATH)"
                : "cannot be created (\(String(cString: strerror(errno))))"
            throw .keyFile(path: path, reason: reason)
        }
        defer { close(fd) }
        var bytes = Array(pem.utf8)
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw .keyFile(path: path, reason: "could not be written (\(String(cString: strerror(errno))))")
        }
    }
}

/// What the CLI and the server print of a certificate, without them importing X509.
public struct CertificateSummary: Sendable, Equatable {
    public let fingerprint: String
    public let subject: String
    public let notAfter: Int64

    public init(pem: String) throws(CAError) {
        let certificate: Certificate
        do { certificate = try Certificate(pemEncoded: pem) } catch { throw .invalid("not a PEM certificate: \(error)") }
        fingerprint = CertificateAuthority.fingerprint(certificate)
        subject = String(describing: certificate.subject)
        notAfter = Int64(certificate.notValidAfter.timeIntervalSince1970)
    }
}
