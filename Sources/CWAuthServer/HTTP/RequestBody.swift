import AuthCore
import Foundation
import Hummingbird

/// A request's JSON object, read strictly: unknown fields and wrong types are 400s that name the field,
/// so a typo in a script fails loudly instead of being silently ignored.
struct JSONBody {
    static let maxBytes = 64 * 1024

    let members: [String: JSONValue]

    /// Reads the body as a JSON object with only `allowed` keys. An empty body counts as `{}`.
    static func read(_ request: Request, allowed: Set<String>) async throws -> JSONBody {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBytes)
        } catch {
            throw APIError(.contentTooLarge, "request body larger than \(maxBytes) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        if bytes.isEmpty { return JSONBody(members: [:]) }
        try checkContentType(request.headers[.contentType])
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return JSONBody(members: [:])
        }
        return try parse(bytes, allowed: allowed)
    }

    /// A body must say it is JSON: `application/json`, optionally with `charset=utf-8` (JSON is UTF-8).
    /// Anything else is 415, so a form post or a proxy's rewrite is never read as if it were JSON.
    static func checkContentType(_ header: String?) throws {
        guard let header else {
            throw APIError(.unsupportedMediaType, "request body without a Content-Type: send it as application/json")
        }
        let parts = header.split(separator: ";", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts[0].lowercased() == "application/json" else {
            throw APIError(.unsupportedMediaType, "Content-Type \"\(Validation.printable(header, limit: 100))\" is not supported: send the body as application/json")
        }
        for parameter in parts.dropFirst() where !parameter.isEmpty {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let value = pair.count == 2 ? pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased() : ""
            guard pair[0].lowercased() == "charset", value == "utf-8" || value == "utf8" else {
                throw APIError(.unsupportedMediaType, "Content-Type \"\(Validation.printable(header, limit: 100))\" is not supported: application/json takes only charset=utf-8")
            }
        }
    }

    static func parse(_ bytes: [UInt8], allowed: Set<String>) throws -> JSONBody {
        let value: JSONValue
        do {
            value = try JSONValue.parseStrict(bytes)
        } catch {
            throw APIError(.badRequest, "body: \(error.description)")
        }
        guard case let .object(pairs) = value else {
            throw APIError(.badRequest, "body: must be a JSON object, not \(value.typeName)")
        }
        var members: [String: JSONValue] = [:]
        for (key, item) in pairs {
            guard allowed.contains(key) else {
                let known = allowed.sorted().joined(separator: ", ")
                throw APIError.badField(Validation.printable(key), "unknown field (expected: \(known))")
            }
            members[key] = item
        }
        return JSONBody(members: members)
    }

    func has(_ key: String) -> Bool { members[key] != nil }

    func string(_ key: String) throws -> String? {
        switch members[key] {
        case nil, .null?: return nil
        case let .string(value)?: return value
        case let other?: throw APIError.badField(key, "must be a string, not \(other.typeName)")
        }
    }

    func requiredString(_ key: String) throws -> String {
        guard let value = try string(key) else { throw APIError.badField(key, "is required") }
        return value
    }

    func bool(_ key: String) throws -> Bool? {
        switch members[key] {
        case nil, .null?: return nil
        case let .bool(value)?: return value
        case let other?: throw APIError.badField(key, "must be true or false, not \(other.typeName)")
        }
    }

    func int(_ key: String) throws -> Int64? {
        switch members[key] {
        case nil, .null?: return nil
        case let .int(value)?: return value
        case let other?: throw APIError.badField(key, "must be an integer, not \(other.typeName)")
        }
    }

    func strings(_ key: String) throws -> [String]? {
        switch members[key] {
        case nil, .null?: return nil
        case let .array(items)?:
            return try items.enumerated().map { index, item in
                guard case let .string(text) = item else {
                    throw APIError.badField("\(key)[\(index)]", "must be a string, not \(item.typeName)")
                }
                return text
            }
        case let other?: throw APIError.badField(key, "must be an array of strings, not \(other.typeName)")
        }
    }

    func objects(_ key: String) throws -> [JSONBody]? {
        switch members[key] {
        case nil, .null?: return nil
        case let .array(items)?:
            return try items.enumerated().map { index, item in
                guard case let .object(pairs) = item else {
                    throw APIError.badField("\(key)[\(index)]", "must be an object, not \(item.typeName)")
                }
                return JSONBody(members: Dictionary(pairs, uniquingKeysWith: { $1 }))
            }
        case let other?: throw APIError.badField(key, "must be an array of objects, not \(other.typeName)")
        }
    }
}

/// Input checks shared by the routes; each names the field it checks.
enum Check {
    static func username(_ name: String, field: String = "username") throws {
        do { try Validation.validateUsername(name) } catch { throw APIError.badField(field, error.description) }
    }

    static func password(_ password: String, field: String = "password") throws {
        do { try Validation.validatePassword(password) } catch { throw APIError.badField(field, error.description) }
    }

    static func roleName(_ name: String, field: String) throws {
        do { try Validation.validateRoleName(name) } catch { throw APIError.badField(field, error.description) }
    }

    static func roleNames(_ names: [String], field: String) throws {
        for (index, name) in names.enumerated() { try roleName(name, field: "\(field)[\(index)]") }
    }

    static func resource(_ resource: String, field: String = "resource") throws {
        do { try Validation.validateResource(resource) } catch { throw APIError.badField(field, error.description) }
    }

    static func publishPrefix(_ prefix: String, field: String = "publishPrefix") throws {
        do { try Validation.validatePublishPrefix(prefix) } catch { throw APIError.badField(field, error.description) }
    }

    static func operation(_ text: String, field: String = "operation") throws -> AuthCore.Operation {
        guard let op = AuthCore.Operation(rawValue: text) else {
            throw APIError.badField(field, "must be read, write or readWrite")
        }
        return op
    }

    static func context(_ text: String?, field: String = "context") throws -> PermissionContext {
        guard let text else { return .mqtt }
        guard let context = PermissionContext(rawValue: text) else { throw APIError.badField(field, "must be mqtt or http") }
        return context
    }
}
