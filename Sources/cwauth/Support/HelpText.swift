import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// ArgumentParser wraps a help screen's text at the terminal's width but prints the USAGE line as one
/// line however long it is (`user add` has a dozen options); this wraps it too, between options, never
/// inside a `[--option <value>]` group, continuation lines indented under the first option.
enum HelpText {
    /// As ArgumentParser finds it: $COLUMNS, else the terminal's width, else 80.
    static var width: Int {
        if let text = ProcessInfo.processInfo.environment["COLUMNS"], let columns = Int(text), columns > 0 { return columns }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    static let usagePrefix = "USAGE: "

    static func wrappingUsage(_ help: String, width: Int) -> String {
        var lines = help.components(separatedBy: "\n")
        guard let index = lines.firstIndex(where: { $0.hasPrefix(usagePrefix) }), lines[index].count > width else { return help }
        lines[index...index] = ArraySlice(wrap(String(lines[index].dropFirst(usagePrefix.count)), width: width))
        return lines.joined(separator: "\n")
    }

    /// The usage without its prefix, as lines that start with the prefix or with the indent.
    static func wrap(_ usage: String, width: Int) -> [String] {
        let words = groups(usage)
        // The command's name ("cwauth user add") stays on the first line; options continue under the first.
        let nameWords = words.prefix { !($0.hasPrefix("[") || $0.hasPrefix("<") || $0.hasPrefix("-")) }.count
        let nameWidth = words.prefix(nameWords).joined(separator: " ").count + 1
        let indent = String(repeating: " ", count: usagePrefix.count + (nameWidth <= width / 3 ? nameWidth : 2))
        var lines: [String] = []
        var current = usagePrefix + words.prefix(max(nameWords, 1)).joined(separator: " ")
        for word in words.dropFirst(max(nameWords, 1)) {
            if current.count + 1 + word.count > width, current != indent {
                lines.append(current)
                current = indent + word
            } else {
                current += (current == indent ? "" : " ") + word
            }
        }
        lines.append(current)
        return lines
    }

    /// Splits at spaces outside brackets: "[--role <role> ...]" is one group.
    static func groups(_ usage: String) -> [String] {
        var out: [String] = []
        var current = ""
        var depth = 0
        for character in usage {
            switch character {
            case "[", "<", "(": depth += 1
            case "]", ">", ")": depth = max(0, depth - 1)
            default: break
            }
            if character == " " && depth == 0 {
                if !current.isEmpty { out.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
