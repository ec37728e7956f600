import AuthCore
import CWAuthServer
import Foundation

/// Human tables on stdout, JSON for scripts, one-line errors on stderr.
enum Output {
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
    static func table(_ header: [String], _ rows: [[String]]) {
        let rows = rows.map { $0.map { Validation.escapingControls($0) } }
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

    static func timestamp(_ seconds: Int64) -> String {
        seconds == 0 ? "-" : iso8601(seconds)
    }

    static func iso8601(_ seconds: Int64) -> String {
        ISOTime.string(seconds)
    }

    static func duration(_ seconds: Int64) -> String {
        seconds >= 60 ? "\(seconds / 60)m \(seconds % 60)s" : "\(seconds)s"
    }
}
