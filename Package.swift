// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Triage",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "triage", targets: ["triage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
    ],
    targets: [
        // C libraries, each behind a typed shim.
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"])]),

        // Core: commands, replies, rendering, incidents and paging logic. No C imports.
        .target(name: "TriageCore", dependencies: [
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Adapters at the edges.
        .target(name: "TriagePostgres", dependencies: [
            "TriageCore", "CLibPQ",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "TriageStore", dependencies: [
            "TriageCore",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "TriageHTTP", dependencies: [
            "TriageCore", "CCurl",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Wiring: config, dispatcher, handlers, services.
        .target(name: "TriageApp", dependencies: [
            "TriageCore", "TriagePostgres", "TriageStore", "TriageHTTP",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Telegram Bot API platform (long-poll over libcurl).
        .target(name: "TriageTelegram", dependencies: [
            "TriageCore", "TriageApp", "TriageHTTP", "TriageStore",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Matrix client-server API: /sync long-poll, replies as m.notice with HTML.
        .target(name: "TriageMatrix", dependencies: [
            "TriageCore", "TriageApp", "TriageHTTP", "TriageStore",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Paging: on-call schedules, escalation policies, provider deliveries.
        .target(name: "TriagePaging", dependencies: [
            "TriageCore", "TriageApp", "TriageStore", "TriageHTTP",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        .executableTarget(name: "triage", dependencies: [
            "TriageApp", "TriageTelegram", "TriageMatrix", "TriagePaging",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        .testTarget(name: "TriageCoreTests", dependencies: ["TriageCore"], exclude: ["Golden"]),
        .testTarget(name: "TriageIntegrationTests", dependencies: [
            "TriageCore", "TriagePostgres", "TriageStore", "TriageHTTP", "TriageApp", "TriageTelegram", "TriageMatrix",
            "TriagePaging",
        ]),
        .testTarget(name: "TriageMatrixTests", dependencies: [
            "TriageCore", "TriageApp", "TriageStore", "TriageMatrix",
        ]),
        .testTarget(name: "TriagePagingTests", dependencies: [
            "TriageCore", "TriageStore", "TriageHTTP", "TriageApp", "TriagePaging",
        ]),
        .testTarget(name: "TriageTelegramTests", dependencies: ["TriageCore", "TriageApp", "TriageTelegram"]),
    ],
    swiftLanguageModes: [.v5]
)
