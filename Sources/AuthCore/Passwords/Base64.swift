/// Standard Base64 (RFC 4648 §4: `A–Z a–z 0–9 + /`, `=` padding), exactly as `mosquitto_passwd`
/// writes salts and hashes. Foundation-free so AuthCore stays small inside the broker.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let pad = UInt8(ascii: "=")

    /// Encodes `bytes` with padding; `[]` encodes to `""`.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        switch bytes.count - i {
        case 1:
            let n = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(pad)
            out.append(pad)
        case 2:
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(pad)
        default:
            break
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes padded standard Base64. Returns nil for characters outside the alphabet (including
    /// whitespace and the URL-safe `-`/`_`), a length that is not a multiple of 4, or `=` anywhere
    /// but the last one or two positions. `""` decodes to `[]`. Like OpenSSL (which mosquitto uses),
    /// non-zero unused bits in the final group are ignored.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(utf8: $0) }
    }

    /// Same as `decode(_:)` for raw UTF-8 bytes.
    public static func decode(utf8 input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let count = input.count
        guard count % 4 == 0 else { return nil }
        if count == 0 { return [] }
        let padding = input[count - 1] != pad ? 0 : (input[count - 2] == pad ? 2 : 1)
        var out: [UInt8] = []
        out.reserveCapacity(count / 4 * 3 - padding)
        var i = 0
        while i < count {
            let last = i + 4 == count
            var n: UInt32 = 0
            for j in 0..<4 {
                let c = input[i + j]
                let v: UInt8
                if last, j >= 4 - padding {
                    v = 0 // `=` in an allowed padding position
                } else {
                    guard let d = value(of: c) else { return nil }
                    v = d
                }
                n = n << 6 | UInt32(v)
            }
            out.append(UInt8(n >> 16 & 0xFF))
            if !last || padding < 2 { out.append(UInt8(n >> 8 & 0xFF)) }
            if !last || padding < 1 { out.append(UInt8(n & 0xFF)) }
            i += 4
        }
        return out
    }

    @inline(__always)
    private static func value(of c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil // includes "=" outside the padding positions
        }
    }
}
