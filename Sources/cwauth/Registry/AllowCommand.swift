import ArgumentParser
import CWAuthCA
import CWAuthServer

struct AllowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allow",
        abstract: "Admit a pending device: create the user with the password it registered with.")
    @OptionGroup var global: GlobalOptions
    @Argument var username: String
    @Option(name: .customLong("role"), help: "Role to give (repeatable); without, the device may connect but do nothing.")
    var roles: [String] = []
    @Flag(help: "Admit a request flagged as conflict (someone tried another password); the first password wins.")
    var force = false

    func run() throws {
        try runCommand(global) {
            // With a CSR in the request, the device's certificate is signed here (the CA key must be readable).
            let (user, issued) = try CertificateGrant.allow(global.openStore(), username, roles: roles, force: force)
            if global.json { return try Output.json(Representation.user(user)) }
            Output.line("allowed \(username)" + (roles.isEmpty ? " (no roles yet)" : " with roles \(user.roles.joined(separator: ", "))")
                        + (issued.map { "; certificate \($0.serial) issued (sha256 \($0.fingerprint)), the device fetches it by polling" } ?? ""))
        }
    }
}
