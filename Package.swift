// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]
// The core is optimized in debug builds too: its simulations are what the tests spend their time in
// (unoptimized, 5 CPU-minutes of the in-process tests), and the engine is what the end-to-end tests drive.
let optimizedCore: [SwiftSetting] = strict + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "pollbench",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pollbench", targets: ["pollbench"]),
        .library(name: "PollBenchCore", targets: ["PollBenchCore"]),
        // For the benchmarks' own package (Benchmarks/Package.swift), which keeps its tooling out of this build.
        .library(name: "PollBenchCurl", targets: ["PollBenchCurl"]),
        .library(name: "PollBenchRules", targets: ["PollBenchRules"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // The servers (sandbox, webhook receiver, metrics) on SwiftNIO's own HTTP/1.1 and HTTP/2 pipelines.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CEpoll"),
        // The sandbox's self-signed certificate, made by the system's libcrypto (libssl-dev), which libcurl
        // loads anyway: swift-crypto and swift-certificates would build a second BoringSSL for it.
        .target(name: "CSelfSignedCertificate", linkerSettings: [.linkedLibrary("crypto")]),
        // The layers, each importing only those below it (the compiler refuses the rest):
        // PollBenchRules (the API's vocabulary, strategies, the session machine, the service and its
        // pipeline: pure, no I/O) ← PollBenchCore (engine, simulations, suites, records, reports)
        // ← the transports, servers and the CLI.
        .target(
            name: "PollBenchRules",
            dependencies: [
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: optimizedCore
        ),
        .target(
            name: "PollBenchCore",
            dependencies: [
                "PollBenchRules",
                "CZlib",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: optimizedCore
        ),
        .target(
            name: "PollBenchCurl",
            dependencies: ["CCurl", "CEpoll", "PollBenchRules", "PollBenchCore", .product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: strict
        ),
        .target(
            name: "PollBenchHTTPServer",
            dependencies: [
                "CSelfSignedCertificate", "PollBenchRules",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PollBenchSandbox",
            dependencies: [
                "PollBenchRules", "PollBenchCore", "PollBenchHTTPServer",
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PollBenchReceiver",
            dependencies: [
                "PollBenchRules", "PollBenchCore", "PollBenchHTTPServer",
            ],
            swiftSettings: strict
        ),
        .target(
            name: "PollBenchMetrics",
            dependencies: [
                "PollBenchRules", "PollBenchCore", "PollBenchHTTPServer",
            ],
            swiftSettings: strict
        ),
        // Live runs: the engines on libcurl with the embedded sandbox, receiver and metrics servers.
        .target(
            name: "PollBenchLive",
            dependencies: [
                "PollBenchRules", "PollBenchCore", "PollBenchCurl", "PollBenchSandbox", "PollBenchReceiver", "PollBenchHTTPServer", "PollBenchMetrics",
            ],
            swiftSettings: strict
        ),
        // The CLI: parsing flags, and printing.
        .executableTarget(
            name: "pollbench",
            dependencies: [
                "PollBenchRules", "PollBenchCore", "PollBenchCurl", "PollBenchLive", "PollBenchSandbox", "PollBenchHTTPServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "PollBenchRulesTests", dependencies: ["PollBenchRules"], swiftSettings: strict),
        .testTarget(name: "PollBenchCoreTests", dependencies: ["PollBenchRules", "PollBenchCore"], swiftSettings: strict),
        .testTarget(name: "PollBenchCurlTests", dependencies: ["PollBenchCurl", "PollBenchRules", "PollBenchCore"], swiftSettings: strict),
        .testTarget(
            name: "PollBenchCLITests",
            dependencies: ["pollbench", "PollBenchCore", "PollBenchCurl"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PollBenchSandboxTests",
            dependencies: [
                "PollBenchSandbox", "PollBenchReceiver", "PollBenchMetrics", "PollBenchRules", "PollBenchCore", "PollBenchCurl", "PollBenchHTTPServer",
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ],
            swiftSettings: strict
        ),
    ]
)
