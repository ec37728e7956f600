import CSystemLibraries

/// Thin wrappers over OpenSSL's libcrypto (through CSystemLibraries). No Foundation.
public enum Crypto {
    /// `count` bytes from OpenSSL's CSPRNG (`RAND_bytes`). Traps if the CSPRNG fails: handing out
    /// predictable salts or keys would be worse than stopping.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= Int(Int32.max), "randomBytes: bad count")
        if count == 0 { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard ok == 1 else { fatalError("cwauth: OpenSSL RAND_bytes failed") }
        return bytes
    }

    /// HMAC-SHA256 of `message` under `key` (32 bytes).
    public static func hmacSHA256(key: [UInt8], message: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var outLength: UInt32 = 0
        // OpenSSL wants non-null pointers even for empty inputs.
        var empty: UInt8 = 0
        let result = withUnsafeMutablePointer(to: &empty) { emptyPointer in
            key.withUnsafeBufferPointer { keyBuffer in
                out.withUnsafeMutableBufferPointer { outBuffer in
                    HMAC(EVP_sha256(),
                         keyBuffer.baseAddress.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(emptyPointer),
                         Int32(keyBuffer.count),
                         message.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptyPointer),
                         message.count,
                         outBuffer.baseAddress,
                         &outLength)
                }
            }
        }
        guard result != nil, outLength == 32 else { fatalError("cwauth: OpenSSL HMAC-SHA256 failed") }
        return out
    }

    /// Equality whose running time depends only on the lengths (`CRYPTO_memcmp`), not on where the
    /// inputs differ. Lengths are not treated as secret: different lengths return false at once.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { constantTimeEqual($0, b) }
    }

    /// Same as `constantTimeEqual(_:_:)` for raw memory.
    public static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return b.withUnsafeBytes { CRYPTO_memcmp(a.baseAddress, $0.baseAddress, a.count) == 0 }
    }

    /// Overwrites `bytes` with zeros in a way the optimizer may not remove (`OPENSSL_cleanse`).
    public static func wipe(_ bytes: inout [UInt8]) {
        let count = bytes.count
        guard count > 0 else { return }
        bytes.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, count) }
    }
}
