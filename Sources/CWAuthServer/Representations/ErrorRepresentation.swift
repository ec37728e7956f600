extension Representation {
    /// docs/openapi.json `Error`: what every failed API call answers, and what a failed CLI command run
    /// with --json prints. The message is the one-line text a person reads.
    public static func error(_ message: String) -> JSONValue {
        ["error": .string(message)]
    }
}
