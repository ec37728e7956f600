import Hummingbird

/// For the machines that watch the server: a load balancer's or systemd's health probe, Prometheus.
/// Outside /api/ because that is where such tools look for them.
enum OpsRoutes {
    static let endpoints: [Endpoint] = [
        Endpoint(.get, "/healthz", .open, healthz),
        Endpoint(.get, "/metrics", .metrics, metrics),
    ]

    /// 200 while the database can be read, else 503 with the kind of trouble and nothing more: the
    /// caller is not authenticated.
    static func healthz(_ state: ServerState, _ call: Call) async throws -> Response {
        switch await state.store.health(logger: call.context.logger) {
        case let .success(report):
            return JSONResponse.make(.ok, [
                "status": "ok", "schemaVersion": .int(Int64(report.schemaVersion)), "policyVersion": .int(report.policyVersion),
            ])
        case let .failure(problem):
            return JSONResponse.make(.serviceUnavailable, ["status": "unavailable", "error": .string(problem.publicMessage)],
                                     headers: [.retryAfter: "5"])
        }
    }

    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    static func metrics(_ state: ServerState, _ call: Call) async throws -> Response {
        Response(status: .ok, headers: [.contentType: metricsContentType, .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: state.metrics.text())))
    }
}
