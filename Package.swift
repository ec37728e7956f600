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
    ],
    targets: [
        // System C libraries only: the broker process must stay lean.
        .target(
            name: "CShim",
            linkerSettings: [.linkedLibrary("sqlite3"), .linkedLibrary("crypto")]
        ),
        // Pure Swift core: no broker types, no Foundation (keeps the plugin small).
        .target(name: "AuthCore", dependencies: ["CShim"]),
        // Thin @_cdecl adapter loaded by Mosquitto.
        .target(name: "MosquittoPlugin", dependencies: ["AuthCore", "CShim"]),
        .executableTarget(
            name: "cwauth",
            dependencies: [
                "AuthCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(name: "AuthCoreTests", dependencies: ["AuthCore"]),
    ],
    swiftLanguageModes: [.v6]
)
