import ArgumentParser

struct DenyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deny", abstract: "Drop a pending request.")
    @OptionGroup var global: GlobalOptions
    @Argument var username: String
    @Flag(help: "Also never record this username again (until `registry unblock`).") var block = false

    func run() throws {
        try runCommand(global) {
            try global.openStore().deny(username, block: block)
            Output.line("denied \(username)" + (block ? " and blocked it" : ""))
        }
    }
}
