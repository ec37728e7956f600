// swift-tools-version:6.1
// ACL hot-path benchmarks for cwauth (see README.md; `make bench` at the repo root runs them via run.sh).
import PackageDescription
import Foundation

// A path dependency's identity is its folder's name (`main` here, whatever a CI clone is called):
// derive it so `.product(package:)` names the root package wherever the repository is checked out.
let rootDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let rootPackage = rootDirectory.lastPathComponent.lowercased()

let package = Package(
    name: "cwauth-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // Same interposer the Benchmark package counts mallocs with: read directly for exact
        // allocation totals over a full pass of the check list and for snapshot heap bytes.
        .package(url: "https://github.com/ordo-one/malloc-interposer.git", from: "1.6.1"),
    ],
    targets: [
        // ordo-one/benchmark discovers benchmark targets under <package root>/Benchmarks/<Target>.
        .executableTarget(
            name: "ACLCheck",
            dependencies: [
                .product(name: "AuthCore", package: rootPackage),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ],
            path: "Benchmarks/ACLCheck",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
