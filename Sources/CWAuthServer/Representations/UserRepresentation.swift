import AuthCore

extension Representation {
    /// docs/openapi.json `User`. Never the password hash.
    public static func user(_ user: User) -> JSONValue {
        [
            "username": .string(user.username),
            "enabled": .bool(user.enabled),
            "roles": .strings(user.roles),
            "publishPrefix": .optional(user.publishPrefix),
            "origin": .string(user.origin.rawValue),
            "createdAt": .string(ISOTime.string(user.createdAt)),
            "updatedAt": .string(ISOTime.string(user.updatedAt)),
        ]
    }
}
