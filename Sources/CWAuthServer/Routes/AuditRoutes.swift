import AuthCore
import Hummingbird

/// The audit log, newest first, paged by id so pages stay stable while new rows arrive.
enum AuditRoutes {
    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/api/audit", .admin, list),
    ]

    static let defaultLimit = Int64(Store.defaultAuditLimit)
    static let maxLimit: Int64 = 500

    static func list(_ state: ServerState, _ call: Call) async throws -> Response {
        let limit = try integer(call.query("limit"), field: "limit") ?? defaultLimit
        guard (1...maxLimit).contains(limit) else { throw APIError.badField("limit", "must be between 1 and \(maxLimit)") }
        let before = try integer(call.query("before"), field: "before")
        if let before, before < 1 { throw APIError.badField("before", "must be a positive entry id") }
        // One extra row tells whether there is a next page.
        let rows = try await state.store.read { try $0.auditLog(limit: Int(limit) + 1, before: before) }
        let page = Array(rows.prefix(Int(limit)))
        let next: JSONValue = rows.count > page.count ? .int(page[page.count - 1].id) : .null
        return JSONResponse.make(.ok, ["entries": .array(page.map(Representation.audit)), "next": next])
    }

    private static func integer(_ text: String?, field: String) throws -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text) else { throw APIError.badField(field, "must be an integer") }
        return value
    }
}
