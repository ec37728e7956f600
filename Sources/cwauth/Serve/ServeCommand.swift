import ArgumentParser
import AuthCore
import CWAuthServer
import Foundation

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the REST API and the admin web page over the database.",
        discussion: """
            Admins are users whose roles carry http permissions (create the first with `cwauth init --admin NAME`).
            Devices register at POST /api/client-registry/register while the registry is unlocked.
            Prints "cwauth serve: listening on http://HOST:PORT" (https:// with --tls-cert/--tls-key) once ready;
            stops on SIGINT/SIGTERM. Plain HTTP on an address other than loopback prints a warning: passwords and
            session cookies would cross the network in clear, which is right only behind a TLS proxy.
            GET /healthz needs no credentials; GET /metrics (Prometheus) needs an http read permission covering
            /metrics, or the --metrics-token-file token as a bearer token.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Address and port to listen on; port 0 picks a free one.", valueName: "host:port"))
    var listen = "127.0.0.1:8080"
    @Option(name: .customLong("trusted-proxy"),
            help: ArgumentHelp("A reverse proxy's IP address (repeatable): only requests from it have their client address taken from X-Forwarded-For (the right-most entry that is not a trusted proxy).", valueName: "address"))
    var trustedProxies: [String] = []
    @Option(name: .customLong("tls-cert"),
            help: ArgumentHelp("Serve HTTPS with this PEM certificate (chain); needs --tls-key.", valueName: "file"))
    var tlsCertificate: String?
    @Option(name: .customLong("tls-key"),
            help: ArgumentHelp("The PEM private key of --tls-cert, without a passphrase.", valueName: "file"))
    var tlsKey: String?
    @Option(name: .customLong("metrics-token-file"),
            help: ArgumentHelp("A file holding a token (32+ characters) that Prometheus may send as a bearer token for GET /metrics only.", valueName: "file"))
    var metricsTokenFile: String?

    func validate() throws {
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ArgumentParser.ValidationError("--tls-cert and --tls-key go together: give both or neither")
        }
    }

    func run() throws {
        try runCommand(global) {
            let (host, port) = try Self.parseListen(listen)
            for proxy in trustedProxies where !ServerState.isIPAddress(proxy) {
                throw CLIError("--trusted-proxy: \"\(proxy)\" is not an IP address")
            }
            var options = ServerState.Options(trustedProxies: trustedProxies)
            if let tlsCertificate, let tlsKey {
                options.tls = try ServerTLS.load(certificateFile: tlsCertificate, keyFile: tlsKey)
            }
            if let metricsTokenFile {
                options.metricsToken = try ServerState.metricsToken(fromFile: metricsTokenFile)
            }
            let path = global.databasePath
            let store = try Store(path: path, actor: global.actor) // fail fast, with the CLI's one-line message
            if try Self.adminCount(store) == 0 {
                Output.notice("no user has an http permission yet: create an admin with `cwauth init --admin NAME`")
            }
            if options.tls == nil, !ServerState.isLoopback(host) {
                Output.notice(Self.plainHTTPWarning(host: host, behindProxy: !trustedProxies.isEmpty))
            }
            let scheme = options.tls == nil ? "http" : "https"
            let outcome = ServeOutcome()
            Task.detached {
                do {
                    try await CWAuthServer.run(databasePath: path, host: host, port: port, options: options) { host, port in
                        let shown = host.contains(":") ? "[\(host)]" : host
                        // Unbuffered: scripts and tests wait for this line on a pipe.
                        FileHandle.standardOutput.write(Data("cwauth serve: listening on \(scheme)://\(shown):\(port)\n".utf8))
                    }
                    outcome.finish(nil)
                } catch {
                    outcome.finish(describe(error))
                }
            }
            if let failure = outcome.wait() { throw CLIError(failure) }
        }
    }

    /// Not a refusal: behind a TLS-terminating proxy (--trusted-proxy) plain HTTP on a private address
    /// is the normal setup, and refusing it would force TLS twice. The line says what is at stake.
    static func plainHTTPWarning(host: String, behindProxy: Bool) -> String {
        let risk = "warning: plain HTTP on \(host), not loopback: passwords, tokens and session cookies cross the network unencrypted"
        return behindProxy
            ? risk + " between the proxy and this server; keep that hop on a trusted network, or use --tls-cert/--tls-key"
            : risk + "; use --tls-cert/--tls-key, or put a TLS proxy in front (--trusted-proxy)"
    }

    /// Enabled users holding a role with an http permission: the ones who can use the API.
    static func adminCount(_ store: Store) throws -> Int {
        let httpRoles = Set(try store.listRoles().filter { $0.permissions.contains { $0.context == .http } }.map(\.name))
        return try store.listUsers().filter { $0.enabled && !httpRoles.isDisjoint(with: $0.roles) }.count
    }

    /// "HOST:PORT", "[IPv6]:PORT" or ":PORT" (all interfaces).
    static func parseListen(_ text: String) throws -> (String, Int) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw CLIError("--listen: expected [ADDRESS]:PORT, got \"\(text)\"") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw CLIError("--listen: expected HOST:PORT, got \"\(text)\"") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw CLIError("--listen: port must be 0–65535, got \"\(portText)\"")
        }
        return (host.isEmpty ? "0.0.0.0" : String(host), port)
    }
}

/// Hands the server task's end (nil, or an error message) back to the blocked command.
final class ServeOutcome: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var failure: String?

    func finish(_ failure: String?) {
        lock.withLock { self.failure = failure }
        done.signal()
    }

    func wait() -> String? {
        done.wait()
        return lock.withLock { failure }
    }
}
