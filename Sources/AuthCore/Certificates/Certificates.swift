/// A client certificate the cwauth CA issued, as the store records it. The broker admits a
/// certificate user only with one of these, by fingerprint, while it is not revoked.
public struct IssuedCertificate: Sendable, Equatable {
    public var username: String
    /// Lowercase hex of the serial number's bytes.
    public var serial: String
    /// Lowercase hex of the SHA-256 of the certificate's DER: what the broker compares.
    public var fingerprint: String
    public var notBefore: Int64
    public var notAfter: Int64
    public var issuedAt: Int64
    public var revokedAt: Int64?
    public var pem: String

    public init(username: String, serial: String, fingerprint: String, notBefore: Int64, notAfter: Int64,
                issuedAt: Int64 = 0, revokedAt: Int64? = nil, pem: String) {
        self.username = username
        self.serial = serial
        self.fingerprint = fingerprint
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.issuedAt = issuedAt
        self.revokedAt = revokedAt
        self.pem = pem
    }

    public var isRevoked: Bool { revokedAt != nil }
}

/// The cwauth certificate authority as the database names it: its certificate (public) and where
/// its private key lives (a file of its own, mode 0600, never inside the database).
public struct CertificateAuthorityRecord: Sendable, Equatable {
    public var certificatePEM: String
    public var keyPath: String
    /// Validity of the client certificates it issues.
    public var certificateDays: Int
    public var createdAt: Int64

    public init(certificatePEM: String, keyPath: String, certificateDays: Int, createdAt: Int64 = 0) {
        self.certificatePEM = certificatePEM
        self.keyPath = keyPath
        self.certificateDays = certificateDays
        self.createdAt = createdAt
    }

    public static let certificateDaysRange = 1...3650
    public static let defaultCertificateDays = 365
}

/// What the broker read off a client's TLS certificate (with libcrypto, in the plugin).
public enum PeerCertificate: Sendable, Equatable {
    /// The certificate's single subject CN and the SHA-256 of its DER.
    case read(commonName: String, sha256: [UInt8])
    /// A certificate was presented but its CN or digest could not be read (none, several, not
    /// text): such a client is refused, whatever else it sent.
    case unreadable
}

public enum Fingerprint {
    /// Lowercase hex, the form the store keeps.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of `hex` (either case), or nil when it is not an even number of hex digits.
    public static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// `ab:cd:…` in upper case, as `openssl x509 -fingerprint -sha256` prints it.
    public static func colons(_ hex: String) -> String {
        var parts: [String] = []
        var chars = Array(hex.uppercased())
        while !chars.isEmpty {
            parts.append(String(chars.prefix(2)))
            chars.removeFirst(min(2, chars.count))
        }
        return parts.joined(separator: ":")
    }
}
