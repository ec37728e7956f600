import ArgumentParser
import AuthCore
import CWAuthCA
import CWAuthServer

struct AllowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allow",
        abstract: "Admit a pending device: create the user with the password it registered with.",
        discussion: "A username with no pending request is an error (also when it was allowed before). With --json: the user created.")
    @OptionGroup(title: GlobalOptions.title) var global: GlobalOptions
    @Argument var username: String
    @Option(name: .customLong("role"), help: "Role to give (repeatable); without, the device may connect but do nothing.")
    var roles: [String] = []
    @Flag(help: "Admit a request flagged as conflict (someone tried another password); the first password wins.")
    var force = false

    func run() throws {
        try runCommand(global) {
            let store = try global.openStore()
            let user: User
            let issued: IssuedCertificate?
            do {
                // With a CSR in the request, the device's certificate is signed here (the CA key must be readable).
                (user, issued) = try CertificateGrant.allow(store, username, roles: roles, force: force)
            } catch let error as StoreError {
                // A second `allow` of the same device: say why there is nothing to admit.
                if case .notFound(kind: "pending registration", name: _) = error, try store.user(named: username) != nil {
                    throw CLIError("no pending registration named \"\(Validation.printable(username))\": it is already a user")
                }
                throw error
            }
            let certificate = issued.map { "; certificate \($0.serial) issued (sha256 \($0.fingerprint)), the device fetches it by polling" } ?? ""
            try global.report("allowed \(username)" + (roles.isEmpty ? " (no roles yet)" : " with roles \(user.roles.joined(separator: ", "))") + certificate,
                              json: WriteJSON.after(Representation.user(user), changed: true))
        }
    }
}
