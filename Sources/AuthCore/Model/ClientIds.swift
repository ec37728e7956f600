/// Which client ids a user may claim. Mosquitto lets any authenticated client take over the
/// session of any client id, queued messages included, and `%c` grants topics by client id; so a
/// client id that begins with a username belongs to that user:
///
/// - it is the username itself, or the username followed by one of `- _ . : / @` and more
///   (`alice`, `alice-phone`, `alice/2`);
/// - when several usernames fit (`alice` and `alice-lab` for `alice-lab-3`), the longest owns it;
/// - another user connecting with it is refused, and `%c` stands only for a client id of the
///   connecting user's own: with any other id a `%c` permission grants nothing.
///
/// Other client ids (`mosq-Xy3…`, `sensor-17` when no user `sensor` exists) are anyone's, as in
/// Mosquitto, and match no `%c` permission.
public enum ClientIds {
    static let separators: [UInt8] = Array("-_.:/@".utf8)

    /// Whether `clientId` is `username` or `username` + separator + anything.
    @inline(__always)
    public static func belongs(_ clientId: UnsafeBufferPointer<UInt8>, to username: UnsafeBufferPointer<UInt8>) -> Bool {
        guard clientId.count >= username.count, username.count > 0,
              ByteCompare.equal(clientId.baseAddress.unsafelyUnwrapped, username.baseAddress.unsafelyUnwrapped, username.count)
        else { return false }
        return clientId.count == username.count || separators.contains(clientId[username.count])
    }

    public static func belongs(_ clientId: String, to username: String) -> Bool {
        var clientId = clientId
        var username = username
        return clientId.withUTF8 { c in username.withUTF8 { u in belongs(c, to: u) } }
    }

    /// The client id as `%c` may use it: itself when it is the user's own, else "" (which stands
    /// for no level, so no `%c` permission matches).
    static func forSubstitution(_ clientId: String, of username: String) -> String {
        belongs(clientId, to: username) ? clientId : ""
    }

    /// The user that owns `clientId` among those `exists` knows: the longest username that the id
    /// is, or begins with before a separator. Looks at the first 1,024 bytes only (no username is
    /// longer), so a hostile id costs at most that many lookups.
    public static func owner(of clientId: String, exists: (String) -> Bool) -> String? {
        let total = clientId.utf8.count
        let bytes = Array(clientId.utf8.prefix(4 * Validation.usernameLength.upperBound + 1))
        let minimum = Validation.usernameLength.lowerBound
        guard bytes.count >= minimum else { return nil }
        var owner: String?
        for end in minimum...bytes.count {
            let fits = end == total || (end < bytes.count && separators.contains(bytes[end]))
            guard fits else { continue }
            let candidate = String(decoding: bytes[..<end], as: UTF8.self)
            if exists(candidate) { owner = candidate }
        }
        return owner
    }
}
