/// A broker client (`struct mosquitto *`) as a number, for sets and tables the plugin keeps across
/// callbacks (they must be Sendable). Never dereferenced; 0 for a missing pointer.
enum ClientKey {
    static func of(_ client: OpaquePointer?) -> UInt {
        UInt(bitPattern: client.map { Int(bitPattern: $0) } ?? 0)
    }

    static func client(_ key: UInt) -> OpaquePointer? {
        OpaquePointer(bitPattern: key)
    }
}
