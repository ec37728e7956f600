import AuthCore

extension Representation {
    /// docs/openapi.json `Role`. The CLI adds `members`, which the API does not serve (yet).
    public static func role(_ role: Role) -> JSONValue {
        ["name": .string(role.name), "permissions": .array(role.permissions.map(permission))]
    }
}
