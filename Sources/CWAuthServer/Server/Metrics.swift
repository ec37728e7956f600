import HTTPTypes
import Hummingbird
import Prometheus

/// What GET /metrics reports, in Prometheus' text format. One registry per server (not the process-wide
/// swift-metrics system), so that each test's server counts only its own requests.
///
/// Every label value comes from a closed set — a route template, a known method, a status code, a
/// fixed outcome word — never from the request's path or body: a client must not be able to create
/// series (one per username it tries) and exhaust the server's or Prometheus' memory.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let storeWriteDuration: DurationHistogram

    // Computed: MetricNameDescriptor is not Sendable, so it cannot be a stored static.
    static var requests: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "cwauth_http_requests", unitName: "total",
        helpText: "HTTP requests by route template (unmatched: an /api path no route has; web: the admin page), method and status.") }
    static var adminLogins: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "cwauth_admin_logins", unitName: "total",
        helpText: "Admin password checks: POST /api/auth/login (via=login) and HTTP Basic (via=basic), by outcome.") }
    static var registryRequests: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "cwauth_registry_requests", unitName: "total",
        helpText: "POST /api/client-registry/register by outcome.") }
    static var storeWrites: MetricNameDescriptor { MetricNameDescriptor(
        metricName: "cwauth_store_write_duration", unitName: "seconds",
        helpText: "Time of each write transaction on the database, including waits for the write lock.") }

    /// Up to the store's 5 s busy timeout: a write that waited for the lock shows in the top buckets.
    static let writeBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]

    enum LoginOutcome: String, CaseIterable, Sendable { case ok, failed, throttled }
    enum LoginVia: String, CaseIterable, Sendable { case login, basic }

    /// What the registration door answered, by status (RegisterRoute documents which answer means what).
    enum RegistryOutcome: String, CaseIterable, Sendable {
        case registered, pending, invalid, denied, conflict, locked, throttled, unavailable, error

        init(status: HTTPResponse.Status) {
            switch status.code {
            case 201: self = .registered
            case 202: self = .pending
            case 400, 413, 415: self = .invalid
            case 403: self = .denied
            case 409: self = .conflict
            case 423: self = .locked
            case 429: self = .throttled
            case 503: self = .unavailable
            default: self = .error
            }
        }
    }

    init() {
        storeWriteDuration = registry.makeDurationHistogram(descriptor: Self.storeWrites, labels: [], buckets: Self.writeBuckets)
        // Known series start at zero, so that rate() and alerts work before the first event.
        for outcome in LoginOutcome.allCases {
            for via in LoginVia.allCases { _ = loginCounter(outcome, via) }
        }
        for outcome in RegistryOutcome.allCases { _ = registryCounter(outcome) }
    }

    func request(route: String, method: HTTPRequest.Method, status: HTTPResponse.Status) {
        registry.makeCounter(descriptor: Self.requests, labels: [
            ("route", route), ("method", Self.methodLabel(method)), ("status", String(status.code)),
        ]).increment()
    }

    func adminLogin(_ outcome: LoginOutcome, via: LoginVia) {
        loginCounter(outcome, via).increment()
    }

    func registration(_ status: HTTPResponse.Status) {
        registryCounter(RegistryOutcome(status: status)).increment()
    }

    /// The exposition text.
    func text() -> String { registry.emitToString() }

    private func loginCounter(_ outcome: LoginOutcome, _ via: LoginVia) -> Counter {
        registry.makeCounter(descriptor: Self.adminLogins, labels: [("outcome", outcome.rawValue), ("via", via.rawValue)])
    }

    private func registryCounter(_ outcome: RegistryOutcome) -> Counter {
        registry.makeCounter(descriptor: Self.registryRequests, labels: [("outcome", outcome.rawValue)])
    }

    /// A client may send any token as its method; only the ones the API knows become a label.
    static func methodLabel(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head, .post, .put, .delete, .patch, .options: return method.rawValue
        default: return "other"
        }
    }

    /// The series label for a request: the route template Hummingbird matched (`/api/users/{name}`),
    /// else `unmatched` under /api and `web` for the page's paths.
    static func routeLabel(endpointPath: String?, path: String) -> String {
        if let endpointPath, endpointPath != "NotFound" { return endpointPath }
        return path == "/api" || path.hasPrefix("/api/") ? "unmatched" : "web"
    }
}

/// Outermost layer: counts every request once, with the status the client got (errors included, as
/// ResponseMiddleware, inside it, has turned them into responses).
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: ServerContext,
                next: (Request, ServerContext) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.request(route: label(request, context), method: request.method, status: response.status)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            metrics.request(route: label(request, context), method: request.method, status: status)
            throw error
        }
    }

    private func label(_ request: Request, _ context: ServerContext) -> String {
        ServerMetrics.routeLabel(endpointPath: context.endpointPath, path: HTTPAccess.canonical(request.uri.path))
    }
}

extension ServerMetrics {
    /// Counts the registration door's answer, error or not.
    func countingRegistration(_ body: () async throws -> Response) async throws -> Response {
        do {
            let response = try await body()
            registration(response.status)
            return response
        } catch {
            registration((error as? any HTTPResponseError)?.status ?? .internalServerError)
            throw error
        }
    }
}
