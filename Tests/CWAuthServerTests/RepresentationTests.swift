import AuthCore
import Foundation
import Testing
@testable import CWAuthServer

/// The shapes the API serves and `cwauth … --json` prints come from `Representation`; these pin them to
/// docs/openapi.json, so a field renamed on one side fails here instead of in a script.
@Suite("representations")
struct RepresentationTests {
    static let user = User(username: "dev-1", passwordHash: "$7$secret", roles: ["sensor"], createdAt: 1_795_387_260,
                           updatedAt: 1_795_387_261)
    static let permission = Permission(resource: "sensors/%u/#", operation: .write)
    static let pending = PendingRequest(username: "dev-2", clientId: "dev-2-client", address: "192.0.2.7",
                                        passwordHash: "$7$secret", firstSeen: 1_795_387_260, lastSeen: 1_795_387_262,
                                        attempts: 2, conflict: false)

    /// The property names of a schema in the served document.
    static func documentedFields(_ schema: String) throws -> Set<String> {
        let document = try #require(JSONValue.parse(Array(OpenAPIDocument.text.utf8)))
        guard case let .object(properties)? = document["components"]?["schemas"]?[schema]?["properties"] else {
            throw FixtureError("docs/openapi.json has no schema \(schema)")
        }
        return Set(properties.map(\.0))
    }

    static func fields(_ value: JSONValue) -> Set<String> {
        guard case let .object(members) = value else { return [] }
        return Set(members.map(\.0))
    }

    @Test func everyShapeHasExactlyTheDocumentedFields() throws {
        let fixture = try Fixture()
        let entry = try #require(try fixture.store().auditLog(limit: 1).first)
        let shapes: [(String, JSONValue)] = [
            ("User", Representation.user(Self.user)),
            ("Permission", Representation.permission(Self.permission)),
            ("Role", Representation.role(Role(name: "sensor", permissions: [Self.permission]))),
            ("Pending", Representation.pending(Self.pending)),
            ("RegistryStatus", Representation.registryStatus(RegistryWindow(openUntil: 0), pending: [Self.pending], now: 10)),
            ("AuditEntry", Representation.audit(entry)),
            ("Error", Representation.error("no user named \"x\"")),
        ]
        for (schema, value) in shapes {
            #expect(Self.fields(value) == (try Self.documentedFields(schema)), "\(schema)")
        }
    }

    @Test func aMissingValueIsNullNotAbsentOrEmpty() {
        #expect(Representation.user(Self.user)["publishPrefix"] == .null)
        #expect(Representation.pending(Self.pending)["requestedContext"] == .null)
        var withContext = Self.pending
        withContext.requestedContext = "hall 3"
        #expect(Representation.pending(withContext)["requestedContext"] == "hall 3")
        let closed = Representation.registryStatus(RegistryWindow(openUntil: 5), pending: [], now: 10)
        #expect(closed["openUntil"] == .null && closed["secondsLeft"] == 0)
        let open = Representation.registryStatus(RegistryWindow(openUntil: 1_795_387_320), pending: [], now: 1_795_387_260)
        #expect(open["openUntil"] == "2026-11-22T22:42:00Z" && open["secondsLeft"] == 60)
    }

    @Test func theAuditSubjectIsCalledTarget() throws {
        let fixture = try Fixture()
        let entry = try #require(try fixture.store().auditLog(limit: 1).first)
        #expect(Representation.audit(entry)["target"] == .string(entry.subject))
    }

    /// The CLI prints representations with JSONEncoder: nulls must survive, nested shapes included.
    @Test func encodesWithNullsKept() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let value: JSONValue = ["user": Representation.user(Self.user), "list": [.null, 1, "a/b"]]
        let text = String(decoding: try encoder.encode(value), as: UTF8.self)
        #expect(text.contains("\"publishPrefix\":null"))
        #expect(text.contains("\"list\":[null,1,\"a\\/b\"]") || text.contains("\"list\":[null,1,\"a/b\"]"))
        #expect(JSONValue.parse(Array(text.utf8)) == value)
    }

    @Test func addingExtendsAnObject() {
        let role = Representation.role(Role(name: "sensor")).adding("members", .strings(["dev-1"]))
        #expect(Self.fields(role) == ["name", "permissions", "members"])
        #expect(role.adding("members", [])["members"] == [])
    }

    @Test func timesAreISO8601UTC() {
        #expect(ISOTime.string(0) == "1970-01-01T00:00:00Z")
        #expect(ISOTime.string(1_795_387_260) == "2026-11-22T22:41:00Z")
        #expect(ISOTime.string(-62_135_596_800) == "0001-01-01T00:00:00Z") // four-digit year, as ISO 8601 has it
    }
}
