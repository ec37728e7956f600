import AuthCore

extension Representation {
    /// docs/openapi.json `Permission`; the same object a request body or a policy document gives.
    public static func permission(_ permission: Permission) -> JSONValue {
        [
            "resource": .string(permission.resource),
            "operation": .string(permission.operation.rawValue),
            "context": .string(permission.context.rawValue),
        ]
    }
}
