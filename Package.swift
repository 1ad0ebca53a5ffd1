// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "liaison",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Liaison", targets: ["Liaison"]),
        .library(name: "LiaisonProtocol", targets: ["LiaisonProtocol"]),
        .library(name: "LiaisonServer", targets: ["LiaisonServer"]),
        .library(name: "LiaisonClient", targets: ["LiaisonClient"]),
        .executable(name: "liaison", targets: ["liaison"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // The peer client: URLSession on Linux (libcurl) crashed the process when a connection closed
        // inside an answer's headers and re-sent cut POSTs without their body (see docs/PROTOCOL.md).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Named only for the parser-error answer (LiaisonServer/ParserErrorResponder); Hummingbird builds them anyway.
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // The web console: server-rendered templates, and health as Prometheus text.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Test children started from one long-lived thread with PR_SET_PDEATHSIG (LiaisonTesting).
        .target(name: "CSpawn"),
        .target(name: "LiaisonProtocol", swiftSettings: swiftSettings),
        .target(
            name: "Liaison",
            dependencies: [
                "CSQLite",
                "CZlib",
                "LiaisonProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LiaisonServer",
            dependencies: [
                "Liaison",
                "LiaisonProtocol",
                "CZlib",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LiaisonClient",
            dependencies: [
                "Liaison",
                "LiaisonProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The analysts' web console (`liaison console`, `serve --console-port`) and `/metrics`.
        .target(
            name: "LiaisonConsole",
            dependencies: [
                "Liaison", "LiaisonProtocol", "LiaisonClient", "LiaisonServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LiaisonTesting",
            dependencies: [
                "CSpawn", "Liaison", "LiaisonServer", "LiaisonClient", "LiaisonProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "liaison",
            dependencies: [
                "Liaison",
                "LiaisonServer",
                "LiaisonClient",
                "LiaisonProtocol",
                "LiaisonConsole",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The workloads of shared/bench/WORKLOADS.md; run through Scripts/bench in release mode.
        .executableTarget(
            name: "liaison-bench",
            dependencies: [
                "Liaison", "LiaisonClient", "CSQLite", .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/liaison-bench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LiaisonTests",
            dependencies: [
                "Liaison", "LiaisonTesting", "LiaisonProtocol", "LiaisonServer", "LiaisonClient", "LiaisonConsole",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
    ]
)
