import ArgumentParser
import AuthCore

/// The ways to give a password; commands that set one take at most one of them. With none, a person at a
/// terminal is asked (twice, without echo); a script must name one.
struct PasswordOptions: ParsableArguments {
    @Option(help: "The password (visible in the process list and shell history: prefer --password-stdin).")
    var password: String?

    @Flag(help: "Read the password from the first line of standard input.")
    var passwordStdin = false

    @Option(help: ArgumentHelp("A ready Mosquitto-format hash ($7$… or $6$…), e.g. from mosquitto_passwd.", valueName: "hash"))
    var passwordHash: String?

    /// For the discussion of the commands that take these options.
    static let help = """
        Without --password, --password-stdin or --password-hash, cwauth asks on the terminal, twice and \
        without echo, as mosquitto_passwd does; when standard input is not a terminal it fails instead \
        (give --password-stdin).
        """

    /// The hash to store, made from whichever source was given, or from what the person at the terminal typed.
    func resolveHash() throws -> String {
        let given = [password != nil, passwordStdin, passwordHash != nil].filter { $0 }.count
        guard given <= 1 else { throw CLIError("give only one of --password, --password-stdin or --password-hash") }
        if let passwordHash {
            do { return try PasswordHash(parsing: passwordHash).encoded } catch {
                throw CLIError("invalid --password-hash: \(error.description)")
            }
        }
        let clear: String
        if passwordStdin {
            guard let line = readLine(strippingNewline: true) else { throw CLIError("no password on standard input") }
            clear = line
        } else if let password {
            clear = password
        } else {
            guard TerminalPassword.canAsk else {
                throw CLIError("no password given and standard input is not a terminal to ask on: give --password-stdin (first line of standard input), --password or --password-hash")
            }
            clear = try TerminalPassword.askNew()
        }
        try Validation.validatePassword(clear)
        return PasswordHash.make(password: clear).encoded
    }
}
