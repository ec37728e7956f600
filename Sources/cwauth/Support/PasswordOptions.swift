import ArgumentParser
import AuthCore

/// The three ways to give a password; commands that set one take exactly one of them.
struct PasswordOptions: ParsableArguments {
    @Option(help: "The password (visible in the process list and shell history: prefer --password-stdin).")
    var password: String?

    @Flag(help: "Read the password from the first line of standard input.")
    var passwordStdin = false

    @Option(help: ArgumentHelp("A ready Mosquitto-format hash ($7$… or $6$…), e.g. from mosquitto_passwd.", valueName: "hash"))
    var passwordHash: String?

    /// The hash to store, made from whichever source was given (exactly one).
    func resolveHash() throws -> String {
        let given = [password != nil, passwordStdin, passwordHash != nil].filter { $0 }.count
        guard given == 1 else { throw CLIError("give exactly one of --password, --password-stdin or --password-hash") }
        if let passwordHash {
            do { return try PasswordHash(parsing: passwordHash).encoded } catch {
                throw CLIError("invalid --password-hash: \(error.description)")
            }
        }
        let clear: String
        if passwordStdin {
            guard let line = readLine(strippingNewline: true) else { throw CLIError("no password on standard input") }
            clear = line
        } else {
            clear = password ?? ""
        }
        try Validation.validatePassword(clear)
        return PasswordHash.make(password: clear).encoded
    }
}
