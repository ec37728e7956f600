import ArgumentParser
import AuthCore
import Foundation
import Yams

enum DocumentFormat: String, ExpressibleByArgument, CaseIterable {
    case json, yaml

    static func guess(path: String, contents: String) -> DocumentFormat {
        let lower = path.lowercased()
        if lower.hasSuffix(".json") { return .json }
        if lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") { return .yaml }
        return contents.drop { $0.isWhitespace }.first == "{" ? .json : .yaml
    }

    func decode(_ contents: String, path: String) throws -> PolicyDocument {
        do {
            switch self {
            case .json: return try JSONDecoder().decode(PolicyDocument.self, from: Data(contents.utf8))
            case .yaml:
                if contents.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return PolicyDocument() }
                return try YAMLDecoder().decode(PolicyDocument.self, from: contents)
            }
        } catch let error as DecodingError {
            if case let .dataCorrupted(context) = error, context.codingPath.isEmpty {
                if let yaml = context.underlyingError as? YamlError { throw CLIError(Self.describeYAML(yaml, path: path)) }
                if self == .json { throw CLIError(Self.describeJSONSyntax(contents, path: path)) }
            }
            throw CLIError("\(path): \(Self.describe(error))")
        } catch let error as YamlError {
            throw CLIError(Self.describeYAML(error, path: path))
        }
    }

    /// JSONDecoder on Linux says only "not valid JSON"; JSONSerialization names the byte offset of the
    /// problem, which becomes the line and column an editor can jump to.
    static func describeJSONSyntax(_ contents: String, path: String) -> String {
        let data = Data(contents.utf8)
        var detail = "syntax error"
        do { _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? detail
        }
        guard let range = detail.range(of: "around character "),
              let offset = Int(detail[range.upperBound...].prefix { $0.isNumber }), offset <= data.count else {
            return "\(path): not valid JSON: \(detail)"
        }
        let before = data.prefix(offset)
        let line = before.count { $0 == UInt8(ascii: "\n") } + 1
        let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        let reason = detail[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        return "\(path):\(line):\(column): not valid JSON: \(reason.isEmpty ? "syntax error" : reason)"
    }

    func encode(_ document: PolicyDocument) throws -> String {
        switch self {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(document), as: UTF8.self)
        case .yaml:
            return try YAMLEncoder().encode(document)
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            var out = ""
            for key in context.codingPath {
                if let index = key.intValue { out += "[\(index)]" } else { out += out.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return out.isEmpty ? "document" : out
        }
        func underlying(_ context: DecodingError.Context) -> String {
            // JSONSerialization puts the line/column of a syntax error in the underlying error.
            guard let inner = context.underlyingError else { return "" }
            let text = (inner as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(inner)"
            return ": \(text)"
        }
        switch error {
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return "not valid \(context.debugDescription)\(underlying(context))" }
            return "\(path(context)): \(context.debugDescription)"
        case let .keyNotFound(key, context):
            let where_ = context.codingPath.isEmpty ? "document" : path(context)
            return "\(where_): missing field \"\(key.stringValue)\""
        case let .typeMismatch(type, context):
            return "\(path(context)): expected \(typeName(type)) (\(context.debugDescription))"
        case let .valueNotFound(type, context):
            return "\(path(context)): expected \(typeName(type)), found null"
        @unknown default:
            return "\(error)"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type: return "a number"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") || name.hasSuffix("Spec") || name == "PolicyDocument" { return "a mapping" }
            if name == "Operation" { return "read, write or readWrite" }
            if name == "PermissionContext" { return "mqtt or http" }
            return name
        }
    }

    /// Yams' own description spans several lines with a caret; say it on one line as FILE:LINE:COLUMN.
    static func describeYAML(_ error: YamlError, path: String) -> String {
        func around(_ context: YamlError.Context?) -> String {
            context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            return "\(path):\(mark.line):\(mark.column): not valid YAML: \(problem)\(around(context))"
        case let .duplicatedKeysInMapping(duplicates, context):
            // Yams marks where the mapping starts, not the repeated key.
            let keys = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            return "\(path):\(context.mark.line):\(context.mark.column): not valid YAML: "
                + "the mapping that starts here repeats the key \(keys)"
        default:
            let text = "\(error)"
            return "\(path): not valid YAML: " + (text.split(separator: "\n").first.map(String.init) ?? text)
        }
    }
}
