#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Hummingbird

/// Which address a request comes from, for the login throttle, the audit log and the registry record.
///
/// The TCP peer, unless the peer is one of the `--trusted-proxy` addresses: then the right-most entry of
/// X-Forwarded-For that is not itself a trusted proxy (entries to its left were written by the client and
/// prove nothing). A header from any other peer is ignored, so nobody can pick their own address.
enum ClientAddress {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// The address in canonical text form (so "::1" and "0::1" are one key), or nil if it is not an IP address.
    static func canonical(_ text: some StringProtocol) -> String? {
        let trimmed = text.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
        let value = String(trimmed.reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
        guard !value.isEmpty, value.utf8.count < 64 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 16)
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        for family in [AF_INET, AF_INET6] where inet_pton(family, value, &buffer) == 1 {
            guard inet_ntop(family, buffer, &text, socklen_t(text.count)) != nil else { return nil }
            return String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return nil
    }

    static func resolve(peer: String, forwardedFor headers: [String], trustedProxies: Set<String>) -> String {
        guard !trustedProxies.isEmpty, let peerKey = canonical(peer), trustedProxies.contains(peerKey) else { return peer }
        let entries = headers.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
        for entry in entries.reversed() {
            // A malformed entry was not written by a proxy we trust: stop at the last address we can vouch for.
            guard let address = canonical(entry) else { return peer }
            if !trustedProxies.contains(address) { return address }
        }
        return peer
    }
}

extension ServerState {
    /// The caller's address (see ClientAddress).
    func clientAddress(_ request: Request, _ context: ServerContext) -> String {
        ClientAddress.resolve(peer: context.remoteAddress, forwardedFor: request.headers[values: ClientAddress.forwardedFor],
                              trustedProxies: trustedProxies)
    }
}

extension ServerState {
    /// For `--trusted-proxy`: whether the text is an IPv4 or IPv6 address.
    public static func isIPAddress(_ text: String) -> Bool { ClientAddress.canonical(text) != nil }
}
