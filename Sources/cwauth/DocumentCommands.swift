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

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Make the roles and users in a YAML or JSON file exist exactly as written (all or nothing).",
        discussion: "Roles and users not in the file are left alone. Applying the same file twice changes nothing.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "File to apply; - reads standard input.") var file: String
    @Option(help: "json | yaml (default: from the file name or content).") var format: DocumentFormat?

    func run() throws {
        try runCommand {
            let contents: String
            if file == "-" {
                contents = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
                guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(file) is not UTF-8 text") }
                contents = text
            }
            let document = try (format ?? .guess(path: file, contents: contents)).decode(contents, path: file)
            let store = try global.openStore()
            let summary: ApplySummary
            do { summary = try store.apply(document) } catch let error as StoreError {
                throw CLIError("\(file): \(error.description)")
            }
            if global.json {
                struct SummaryJSON: Encodable {
                    let rolesCreated, rolesUpdated, rolesUnchanged, usersCreated, usersUpdated, usersUnchanged: [String]
                }
                return try Output.json(SummaryJSON(rolesCreated: summary.rolesCreated, rolesUpdated: summary.rolesUpdated,
                                                   rolesUnchanged: summary.rolesUnchanged, usersCreated: summary.usersCreated,
                                                   usersUpdated: summary.usersUpdated, usersUnchanged: summary.usersUnchanged))
            }
            Output.line(summary.changed ? """
                applied \(file): roles \(summary.rolesCreated.count) created, \(summary.rolesUpdated.count) updated, \
                \(summary.rolesUnchanged.count) unchanged; users \(summary.usersCreated.count) created, \
                \(summary.usersUpdated.count) updated, \(summary.usersUnchanged.count) unchanged
                """ : "applied \(file): nothing to change")
        }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Print all roles and users as a file `apply` takes back (password hashes, never passwords).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "json | yaml") var format: DocumentFormat = .yaml
    @Option(name: [.short, .long], help: "Write to this file instead of standard output.") var output: String?

    func run() throws {
        try runCommand {
            let text = try format.encode(try global.openStore().export())
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data((text.hasSuffix("\n") ? text : text + "\n").utf8),
                                                     attributes: [.posixPermissions: 0o600]) else {
                    throw CLIError("cannot write \(output)")
                }
            } else {
                print(text.hasSuffix("\n") ? String(text.dropLast()) : text)
            }
        }
    }
}

struct PasswdImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd-import", abstract: "Import users from a mosquitto_passwd file (user:hash per line).")
    @OptionGroup var global: GlobalOptions
    @Argument var file: String
    @Option(name: .customLong("role"), help: "Role to give every imported user (repeatable).") var roles: [String] = []
    @Flag(help: "Replace the password hash of users that already exist (otherwise they are skipped).") var update = false

    func run() throws {
        try runCommand {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw CLIError("cannot read \(file)")
            }
            var entries: [(String, String)] = []
            for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                guard let colon = line.firstIndex(of: ":") else { throw CLIError("\(file):\(number + 1): expected user:hash") }
                let user = String(line[..<colon])
                let hash = String(line[line.index(after: colon)...])
                do { try Validation.validateUsername(user) } catch { throw CLIError("\(file):\(number + 1): \(error)") }
                do { _ = try PasswordHash(parsing: hash) } catch { throw CLIError("\(file):\(number + 1): \(error)") }
                entries.append((user, hash))
            }
            let store = try global.openStore()
            var created = 0, updated = 0, skipped = 0
            try store.transaction { () throws(StoreError) in
                for (user, hash) in entries {
                    if try store.user(named: user) != nil {
                        if update { try store.setPassword(user, hash: hash); updated += 1 } else { skipped += 1 }
                    } else {
                        try store.addUser(User(username: user, passwordHash: hash, roles: roles, origin: .manual))
                        created += 1
                    }
                }
            }
            Output.line("imported \(file): \(created) created, \(updated) updated, \(skipped) skipped (already exist)")
        }
    }
}
