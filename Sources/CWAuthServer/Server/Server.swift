import AuthCore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging

/// `cwauth serve`: the REST API and the admin web page over the cwauth database.
public enum CWAuthServer {
    /// The router with every API route, the web page and the JSON error layer.
    public static func makeRouter(state: ServerState) -> Router<ServerContext> {
        let router = Router(context: ServerContext.self, options: .autoGenerateHeadEndpoints)
        // Middleware first: Hummingbird applies it only to routes added after it. The metrics layer is
        // outermost so that it sees the status the client gets, errors included.
        router.add(middleware: MetricsMiddleware(metrics: state.metrics))
        router.add(middleware: ResponseMiddleware())
        router.add(middleware: WebMiddleware())
        for endpoint in APIRoutes.all {
            router.on(RouterPath(endpoint.path), method: endpoint.method) { request, context in
                try await state.handle(endpoint, request, context)
            }
        }
        return router
    }

    /// HTTPS when `state.options.tls` is set, else plain HTTP.
    public static func makeApplication(state: ServerState, host: String, port: Int, logger: Logger,
                                       onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void)
        throws -> some ApplicationProtocol {
        let server: HTTPServerBuilder
        if let tls = state.options.tls {
            server = try .tls(.http1(), tlsConfiguration: tls.configuration)
        } else {
            server = .http1()
        }
        return Application(
            router: makeRouter(state: state),
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "cwauth"),
            onServerRunning: { channel in
                onListening(host, channel.localAddress?.port ?? port)
            },
            logger: logger
        )
    }

    /// Serves until SIGINT/SIGTERM.
    public static func run(databasePath: String, host: String, port: Int, options: ServerState.Options = .init(),
                           onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void) async throws {
        let state = try ServerState(databasePath: databasePath, options: options)
        var logger = Logger(label: "cwauth.serve")
        logger.logLevel = .notice
        try await makeApplication(state: state, host: host, port: port, logger: logger, onListening: onListening).runService()
    }
}
