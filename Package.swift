// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Triage",
    platforms: [.macOS(.v15)],
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

        // Core: commands, replies, rendering, incidents, access policy, HTTP values. No C imports.
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
            // The SQLite C API, for reading a million timeline rows by position.
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
        ]),
        .target(name: "TriageHTTP", dependencies: [
            "TriageCore", "CCurl",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Ports for chat platforms: source, sink, inbound message, platform host, plug-in. Core only.
        .target(name: "TriageChat", dependencies: [
            "TriageCore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Ports for features: command handlers, actions, incident events, config, plug-in.
        .target(name: "TriageHandlers", dependencies: [
            "TriageCore", "TriageChat", "TriageStore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Features, each a plug-in.
        .target(name: "TriageRunbook", dependencies: [
            "TriageCore", "TriageHandlers",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "TriageIncidents", dependencies: [
            "TriageCore", "TriageHandlers", "TriageStore",
        ]),
        // Paging: on-call schedules, escalation policies, provider deliveries.
        .target(name: "TriagePaging", dependencies: [
            "TriageCore", "TriageHandlers", "TriageStore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Alerts: follows Alertmanager (API v2), announces with diagnostics, silences from chat.
        .target(name: "TriageAlerts", dependencies: [
            "TriageCore", "TriageChat", "TriageHandlers", "TriageStore",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Platforms, each a plug-in: they see the chat ports and the core, nothing else.
        // Telegram Bot API (long-poll getUpdates).
        .target(name: "TriageTelegram", dependencies: [
            "TriageCore", "TriageChat",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Matrix client-server API: /sync long-poll, replies as m.notice with HTML.
        .target(name: "TriageMatrix", dependencies: [
            "TriageCore", "TriageChat",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Runtime and composition: dispatcher (with the confirmation stage), pollers, outbox,
        // console, and the one composition root that walks the plug-in list.
        .target(name: "TriageRuntime", dependencies: [
            "TriageCore", "TriageChat", "TriageHandlers", "TriageStore", "TriageHTTP", "TriagePostgres",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        .executableTarget(name: "triage", dependencies: [
            "TriageRuntime", "TriageRunbook", "TriageIncidents", "TriagePaging", "TriageAlerts", "TriageTelegram", "TriageMatrix",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // Test doubles and shared test support: the standard plug-in list, an in-memory chat
        // platform, stores on temp files, a test clock, the test servers' environment,
        // process running, and the runbook and incident harnesses.
        .target(name: "TriageTesting", dependencies: [
            "TriageCore", "TriageChat", "TriageHandlers", "TriageStore", "TriagePostgres", "CLibPQ", "TriageRuntime",
            "TriageRunbook", "TriageIncidents", "TriagePaging", "TriageAlerts", "TriageTelegram", "TriageMatrix",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // One test target per module.
        .testTarget(name: "TriageCoreTests", dependencies: ["TriageCore"], exclude: ["Golden"]),
        .testTarget(name: "TriagePostgresTests", dependencies: ["TriageCore", "TriagePostgres", "TriageTesting"]),
        .testTarget(name: "TriageStoreTests", dependencies: [
            "TriageCore", "TriageChat", "TriageHandlers", "TriageStore", "TriageRuntime", "TriageRunbook", "TriageIncidents", "TriageTesting",
        ]),
        .testTarget(name: "TriageHTTPTests", dependencies: [
            "TriageCore", "TriageHTTP", "TriageTesting", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TriageRunbookTests", dependencies: [
            "TriageCore", "TriagePostgres", "CLibPQ", "TriageStore", "TriageChat", "TriageHandlers", "TriageRunbook", "TriageIncidents",
            "TriageRuntime", "TriageTelegram", "TriageMatrix", "TriagePaging", "TriageTesting",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "TriageIncidentsTests", dependencies: [
            "TriageCore", "TriageChat", "TriageHandlers", "TriageStore", "TriageRuntime", "TriageIncidents", "TriageTesting",
        ]),
        .testTarget(name: "TriageMatrixTests", dependencies: [
            "TriageCore", "TriageChat", "TriageHandlers", "TriageRuntime", "TriageStore", "TriageMatrix", "TriageHTTP", "TriageTesting",
        ], exclude: ["Golden"]),
        .testTarget(name: "TriagePagingTests", dependencies: [
            "TriageCore", "TriageStore", "TriageHTTP", "TriageHandlers", "TriageRuntime", "TriagePaging", "TriageTesting", "TriageRunbook", "TriageIncidents",
        ]),
        .testTarget(name: "TriageRuntimeTests", dependencies: [
            "TriageCore", "TriageChat", "TriageHandlers", "TriageRuntime", "TriageStore", "TriageTesting",
            "TriageHTTP", "TriageRunbook", "TriageIncidents", "TriageMatrix", "TriageTelegram",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            // Triggers on the store's own file, to watch what a command wrote and when.
            .product(name: "GRDB", package: "GRDB.swift"),
        ], exclude: ["Golden"]),
        .testTarget(name: "TriageAlertsTests", dependencies: [
            "TriageCore", "TriageChat", "TriageStore", "TriageHTTP", "TriageHandlers", "TriageRuntime", "TriageAlerts", "TriageTesting",
        ]),
        .testTarget(name: "TriageTelegramTests", dependencies: ["TriageCore", "TriageChat", "TriageRuntime", "TriageTelegram", "TriageTesting",
                                                               "TriageHTTP", .product(name: "Logging", package: "swift-log")],
                    exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)
