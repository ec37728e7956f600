// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "cwauth",
    products: [
        .executable(name: "cwauth", targets: ["cwauth"]),
        .library(name: "cwauth_mosquitto", type: .dynamic, targets: ["MosquittoPlugin"]),
        .library(name: "AuthCore", targets: ["AuthCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Certificate authority (CSR checks, signing, CRLs): CLI and server only, never the plugin.
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // `cwauth serve --tls-cert/--tls-key` (what HummingbirdTLS is built on) and GET /metrics. Only
        // CWAuthServer links them: the broker plugin never does.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System C libraries only: the broker process must stay lean. Two C modules, so that only
        // the plugin sees the broker's headers.
        .target(
            name: "CSystemLibraries",
            path: "Sources/CShim/System",
            linkerSettings: [.linkedLibrary("sqlite3"), .linkedLibrary("crypto")]
        ),
        .target(name: "CMosquitto", path: "Sources/CShim/Mosquitto"),
        // Pure Swift core: no broker types, no Foundation (keeps the plugin small).
        .target(name: "AuthCore", dependencies: ["CSystemLibraries"]),
        // Thin @_cdecl adapter loaded by Mosquitto.
        .target(name: "MosquittoPlugin", dependencies: ["AuthCore", "CMosquitto"]),
        // The cwauth certificate authority: signs device CSRs. Linked by the CLI and the server only;
        // the plugin inspects certificates with libcrypto and stays small.
        .target(
            name: "CWAuthCA",
            dependencies: [
                "AuthCore",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // `cwauth serve`: REST API and admin web page. Only the CLI links it, never the plugin.
        .target(
            name: "CWAuthServer",
            dependencies: [
                "AuthCore",
                "CWAuthCA",
                // GET /healthz reads the schema version on a read-only connection of its own.
                "CSystemLibraries",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "cwauth",
            dependencies: [
                "AuthCore",
                "CWAuthServer",
                "CWAuthCA",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(name: "AuthCoreTests", dependencies: ["AuthCore"]),
        .testTarget(name: "CWAuthCATests", dependencies: ["CWAuthCA", "AuthCore"]),
        .testTarget(
            name: "CWAuthServerTests",
            dependencies: [
                // CSystemLibraries: the health tests lock and checkpoint the database with SQLite's API.
                "CWAuthServer", "AuthCore", "CWAuthCA", "CSystemLibraries",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
