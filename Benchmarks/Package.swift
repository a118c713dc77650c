// swift-tools-version:6.1
import PackageDescription

// The benchmarks build on their own, so that package-benchmark, its plugin tools and their dependencies
// stay out of the product's and the tests' builds: `swift build --package-path Benchmarks`.
let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "pollbench-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, so that products resolve whatever the checkout's directory is called.
        .package(name: "pollbench", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // package-benchmark: the MallocInterposer trait only (its runtime interposer is not needed here).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TransportBench",
            dependencies: [
                .product(name: "PollBenchCore", package: "pollbench"),
                .product(name: "PollBenchCurl", package: "pollbench"),
                .product(name: "PollBenchRules", package: "pollbench"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "TransportBench",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "SimulationBenchmarks",
            dependencies: [
                .product(name: "PollBenchCore", package: "pollbench"),
                .product(name: "PollBenchRules", package: "pollbench"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "SimulationBenchmarks",
            swiftSettings: strict,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
