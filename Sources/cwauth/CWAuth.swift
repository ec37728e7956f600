import ArgumentParser
import AuthCore
import Foundation

struct CWAuth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cwauth",
        abstract: "Users, roles, topic permissions and the client registry for Mosquitto, in one SQLite file.",
        discussion: """
            The database is --db PATH, else $CWAUTH_DB, else ./cwauth.db. Changes take effect in a running \
            broker (with the cwauth plugin) within a second. The global options may stand anywhere before `--`.

            \(WriteJSON.help)

            Repeating a command that sets something — user assign, unassign, enable, disable, set-prefix; role \
            grant, revoke; registry lock, unblock; deny --block — succeeds and says "unchanged" (in JSON \
            "changed": false). Adding a name that exists, and removing, allowing or denying one that does not, \
            fail; so does naming an unknown user or role.

            Exit status: 0 success, 1 error, 3 `check` denied, 64 usage error.
            """,
        version: AuthCoreVersion.string,
        subcommands: [
            InitCommand.self, UserCommand.self, RoleCommand.self, RegistryCommand.self, AllowCommand.self,
            DenyCommand.self, ApplyCommand.self, ExportCommand.self, CheckCommand.self, PasswdImportCommand.self,
            AuditCommand.self, BackupCommand.self, RestoreCommand.self, ServeCommand.self, CACommand.self, CertCommand.self,
        ]
    )

    /// Declared here too, so that the root help lists them and `cwauth --db PATH user list` parses:
    /// ArgumentParser parses the root's options wherever they stand (before `--`) and hands every
    /// command's own `global` this value.
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions

    static func mainEntry() {
        do {
            var command = try parseAsRoot(Array(CommandLine.arguments.dropFirst()))
            try command.run()
        } catch {
            // An ExitCode from a command has already printed its line.
            if error is ExitCode { exit(withError: error) }
            if exitCode(for: error) == .success {
                // --help, `help` and --version print on stdout and succeed; help with its usage line wrapped.
                let width = HelpText.width
                let text = HelpText.wrappingUsage(fullMessage(for: error, columns: width), width: width)
                if !text.isEmpty { print(text) }
                Foundation.exit(EXIT_SUCCESS)
            }
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
