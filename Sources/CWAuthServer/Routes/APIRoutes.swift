import Hummingbird

/// Every API route, in the order the OpenAPI document lists them.
enum APIRoutes {
    static let all: [Endpoint] = AuthRoutes.endpoints + UserRoutes.endpoints + RoleRoutes.endpoints
        + RegistryRoutes.endpoints + RegisterRoute.endpoints + AuditRoutes.endpoints + OpsRoutes.endpoints + [
            Endpoint(.get, "/api/openapi.json", .open) { _, _ in
                Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                         body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
            },
        ]
}
