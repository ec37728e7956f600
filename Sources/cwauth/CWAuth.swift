import ArgumentParser
import AuthCore
import Foundation

struct CWAuth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cwauth",
        abstract: "Users, roles, topic permissions and the client registry for Mosquitto, in one SQLite file.",
        discussion: """
            The database is --db PATH, else $CWAUTH_DB, else ./cwauth.db. Changes take effect in a running
            broker (with the cwauth plugin) within a second. Exit status: 0 success, 1 error, 3 `check` denied,
            64 usage error.
            """,
        version: AuthCoreVersion.string,
        subcommands: [
            InitCommand.self, UserCommand.self, RoleCommand.self, RegistryCommand.self, AllowCommand.self,
            DenyCommand.self, ApplyCommand.self, ExportCommand.self, CheckCommand.self, PasswdImportCommand.self,
            AuditCommand.self, BackupCommand.self, RestoreCommand.self, ServeCommand.self, CACommand.self, CertCommand.self,
        ]
    )

    /// The spec writes `cwauth [--db PATH] command …`; ArgumentParser only accepts a leaf's options after the
    /// leaf's name, so global options given before the command are moved behind it — but in front of a `--`,
    /// after which they would be operands (`cwauth --db x user add -- NAME`).
    static func normalized(_ arguments: [String]) -> [String] {
        var globals: [String] = []
        var rest: [String] = []
        var i = 0
        var seenCommand = false
        while i < arguments.count {
            let arg = arguments[i]
            if !seenCommand && arg == "--db" && i + 1 < arguments.count {
                globals += [arg, arguments[i + 1]]
                i += 2
                continue
            }
            if !seenCommand && (arg.hasPrefix("--db=") || arg == "--json") {
                globals.append(arg)
            } else {
                if !arg.hasPrefix("-") { seenCommand = true }
                rest.append(arg)
            }
            i += 1
        }
        let operands = rest.firstIndex(of: "--") ?? rest.endIndex
        return Array(rest[..<operands]) + globals + rest[operands...]
    }

    /// The arguments with every --db PATH, --db=PATH and --json before any `--` taken out.
    static func withoutGlobals(_ arguments: [String]) -> [String] {
        var rest: [String] = []
        var i = 0
        while i < arguments.count {
            if arguments[i] == "--" {
                rest += arguments[i...]
                break
            }
            let arg = arguments[i]
            if arg == "--db" && i + 1 < arguments.count {
                i += 2
                continue
            }
            if !(arg.hasPrefix("--db=") || arg == "--json") { rest.append(arg) }
            i += 1
        }
        return rest
    }

    /// When the arguments do not parse, ArgumentParser blames the first option the command group does not
    /// know — the --db moved behind a mistyped command ("Unknown option '--db'"). The arguments without the
    /// global options name the real mistake ("Unexpected argument 'usr'"), so that error is the one reported.
    static func parse(_ given: [String]) throws -> any ParsableCommand {
        do {
            return try parseAsRoot(normalized(given))
        } catch {
            let bare = withoutGlobals(given)
            guard bare != given else { throw error }
            do { _ = try parseAsRoot(bare) } catch let real where exitCode(for: real) != .success { throw real }
            throw error
        }
    }

    static func mainEntry() {
        do {
            var command = try parse(Array(CommandLine.arguments.dropFirst()))
            try command.run()
        } catch {
            // --help and --version print normally; an ExitCode from a command has already printed its line.
            if error is ExitCode || exitCode(for: error) == .success { exit(withError: error) }
            Failure.report(usageError(error), json: asksForJSON(Array(CommandLine.arguments.dropFirst())))
            exit(withError: exitCode(for: error))
        }
    }

    /// Whether --json was given, for arguments that did not parse: a script that asked for JSON gets its
    /// error as JSON too. After `--` it is an operand, not the flag.
    static func asksForJSON(_ arguments: [String]) -> Bool {
        arguments.prefix { $0 != "--" }.contains("--json")
    }

    /// ArgumentParser reports a bad argument as several lines (error, option help, usage); the CLI promises
    /// one line on stderr for every error, so keep the message and point at the command's help instead.
    static func usageError(_ error: any Error) -> String {
        let message = message(for: error).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        let seeHelp = fullMessage(for: error, columns: 10_000).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix("See '") && $0.hasSuffix(" for more information.") }
            .map { "(see " + $0.dropFirst("See ".count).dropLast(" for more information.".count) + ")" }
        return [message, seeHelp ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
    }
}

@main
enum CWAuthMain {
    static func main() { CWAuth.mainEntry() }
}
