import AuthCore
import CWAuthServer
import Foundation

/// Human tables on stdout, JSON for scripts, one-line errors on stderr.
enum Output {
    /// How a table cell or a `show` line spells a value that is not there (no prefix, no roles, no
    /// client id, never): one spelling everywhere, so a column never looks shifted and `-` can be grepped.
    static let none = "-"

    /// A document (PEM, YAML, JSON) as it is, ending in exactly one newline.
    static func document(_ text: String) {
        print(endingInNewline(text), terminator: "")
    }

    static func endingInNewline(_ text: String) -> String {
        text.hasSuffix("\n") ? text : text + "\n"
    }

    static func line(_ text: String) {
        print(Validation.escapingControls(text, keepLayout: true))
    }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data("cwauth: error: \(Validation.escapingControls(message))\n".utf8))
    }

    static func notice(_ message: String) {
        FileHandle.standardError.write(Data("cwauth: \(Validation.escapingControls(message))\n".utf8))
    }

    /// A shared representation (see CWAuthServer's `Representation`): the API's shape, pretty-printed.
    static func json(_ value: JSONValue) throws {
        try encoded(value)
    }

    /// A shape only the CLI prints.
    static func json<T: Encodable>(_ value: T) throws {
        try encoded(value)
    }

    private static func encoded<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Left-aligned columns, two spaces apart; header underlined by nothing (easy to grep and to read).
    /// An empty cell is printed as `none`: a blank would make `awk '{print $3}'` read the next column.
    static func table(_ header: [String], _ rows: [[String]]) {
        let rows = rows.map { $0.map { Validation.escapingControls(cell($0)) } }
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func render(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let isLast = i == cells.count - 1
                parts.append(isLast ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0))
            }
            return parts.joined(separator: "  ")
        }
        print(render(header.map { $0.uppercased() }))
        for row in rows { print(render(row)) }
    }

    /// `text`, or `none` when it is empty.
    static func cell(_ text: String) -> String {
        text.isEmpty ? none : text
    }

    /// A list in a `show` line: "a, b", or `none`.
    static func list(_ items: [String]) -> String {
        cell(items.joined(separator: ", "))
    }

    /// A stored time; 0 means "never".
    static func timestamp(_ seconds: Int64) -> String {
        seconds == 0 ? none : iso8601(seconds)
    }

    static func iso8601(_ seconds: Int64) -> String {
        ISOTime.string(seconds)
    }

    static func duration(_ seconds: Int64) -> String {
        seconds >= 60 ? "\(seconds / 60)m \(seconds % 60)s" : "\(seconds)s"
    }
}

/// What a command that changes something prints: a line for a person, or with --json one object for a
/// script (the pattern `WriteJSON.help` describes).
extension GlobalOptions {
    func report(_ text: String, json: @autoclosure () throws -> JSONValue) throws {
        if self.json { try Output.json(try json()) } else { Output.line(text) }
    }
}

/// The one shape of a write command's --json output, so a script reads every command alike.
enum WriteJSON {
    /// The object a command acted on, as the REST API returns it after the same change, with "changed".
    static func after(_ object: JSONValue, changed: Bool) -> JSONValue {
        object.adding("changed", .bool(changed))
    }

    /// A command that deleted NAME.
    static func removed(_ name: String) -> JSONValue {
        ["removed": .string(name), "changed": .bool(true)]
    }

    /// Said in the root help and behind --json on every command.
    static let help = """
        With --json, a listing or `show` prints the REST API's objects. A command that changes something \
        prints one object: what it acted on, after the command, as the API returns it (the user, the role, \
        the registry status), with "changed": false when everything already was as asked. A command that \
        deletes prints {"removed": NAME, "changed": true}. A failed command prints {"error": MESSAGE}, and \
        its one line on stderr.
        """
}
