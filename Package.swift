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
        // `cwauth serve`: REST API and admin web page. Only the CLI links it, never the plugin.
        .target(
            name: "CWAuthServer",
            dependencies: [
                "AuthCore",
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
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(name: "AuthCoreTests", dependencies: ["AuthCore"]),
        .testTarget(
            name: "CWAuthServerTests",
            dependencies: [
                // CSystemLibraries: the health tests lock and checkpoint the database with SQLite's API.
                "CWAuthServer", "AuthCore", "CSystemLibraries",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
