import AuthCore
import Crypto
import SwiftASN1
import X509

/// Why a certificate signing request is refused; each says what the device must change.
public enum CSRError: Error, Equatable, Sendable, CustomStringConvertible {
    case notPEM(String)
    case badSignature
    case noCommonName
    case severalCommonNames
    case emptyCommonName
    case commonNameMismatch(commonName: String, username: String)
    case tooLarge(bytes: Int)

    public var description: String {
        switch self {
        case let .notPEM(reason):
            return "csr is not a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----): \(reason)"
        case .badSignature:
            return "csr signature does not verify: the request was altered or not signed with the key it carries"
        case .noCommonName:
            return "csr subject has no common name (CN): set CN to the username"
        case .severalCommonNames:
            return "csr subject has several common names (CN): give exactly one, the username"
        case .emptyCommonName:
            return "csr common name (CN) is empty: set it to the username"
        case let .commonNameMismatch(cn, username):
            return "csr common name (CN) \"\(Validation.printable(cn))\" is not the username \"\(Validation.printable(username))\""
        case let .tooLarge(bytes):
            return "csr is \(bytes) bytes; at most \(CSRCheck.maxBytes) are accepted"
        }
    }
}

/// A CSR whose signature verified and whose single CN is the username it was sent for.
public struct ValidatedCSR: Sendable {
    public let pem: String
    public let commonName: String
    /// Lowercase hex SHA-256 of the request's SubjectPublicKeyInfo (DER): the key the certificate
    /// will carry, shown to the admin before the grant.
    public let publicKeyFingerprint: String
    let request: CertificateSigningRequest
}

public enum CSRCheck {
    /// Far above any real CSR (an RSA-4096 one is under 2 KB); keeps parsing cheap for a hostile sender.
    public static let maxBytes = 16 * 1024

    public static func validate(pem: String, username: String) throws(CSRError) -> ValidatedCSR {
        let validated = try parse(pem)
        guard validated.commonName == username else {
            throw .commonNameMismatch(commonName: validated.commonName, username: username)
        }
        return validated
    }

    /// Signature and CN checks without a username to compare with (`cwauth cert issue` names the user
    /// after the check).
    public static func parse(_ pem: String) throws(CSRError) -> ValidatedCSR {
        guard pem.utf8.count <= maxBytes else { throw .tooLarge(bytes: pem.utf8.count) }
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(pemEncoded: pem)
        } catch {
            throw .notPEM(String(describing: error).split(separator: "\n").first.map(String.init) ?? "unreadable")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else { throw .badSignature }
        let names = commonNames(request.subject)
        guard let first = names.first else { throw .noCommonName }
        guard names.count == 1 else { throw .severalCommonNames }
        guard let name = first, !name.isEmpty else { throw .emptyCommonName }
        return ValidatedCSR(pem: pem, commonName: name, publicKeyFingerprint: try publicKeyFingerprint(request.publicKey),
                            request: request)
    }

    /// SHA-256 of the whole SubjectPublicKeyInfo DER (algorithm and key), as
    /// `openssl pkey -pubin -outform DER | sha256sum` prints it; `subjectPublicKeyInfoBytes` is only the key bits.
    static func publicKeyFingerprint(_ key: Certificate.PublicKey) throws(CSRError) -> String {
        var serializer = DER.Serializer()
        do { try serializer.serialize(key) } catch { throw .notPEM("its public key cannot be encoded again (\(error))") }
        return Fingerprint.hex(SHA256.hash(data: serializer.serializedBytes))
    }

    /// Every CN of the subject; nil for one that is not a text string.
    static func commonNames(_ name: DistinguishedName) -> [String?] {
        name.flatMap { rdn in rdn.filter { $0.type == .RDNAttributeType.commonName }.map { String($0.value) } }
    }
}
