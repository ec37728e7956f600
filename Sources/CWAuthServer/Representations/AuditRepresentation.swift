import AuthCore

extension Representation {
    /// docs/openapi.json `AuditEntry`. `target` is the store's `subject` (what was changed), under the name
    /// the API documented first.
    public static func audit(_ entry: AuditEntry) -> JSONValue {
        [
            "id": .int(entry.id),
            "at": .string(ISOTime.string(entry.at)),
            "actor": .string(entry.actor),
            "action": .string(entry.action),
            "target": .string(entry.subject),
            "detail": .string(entry.detail),
        ]
    }
}
