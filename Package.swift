// swift-tools-version:6.1
import PackageDescription

/// One settings list for every target: Swift 6 language mode is the default for tools 6.x;
/// these upcoming features keep imports and existentials explicit.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// `Shared` and the layers it re-exports. A target that imports `Shared` depends on them all directly: SwiftPM
/// rebuilds a target when a module it depends on directly changes, and a layer's types can change (a stored property
/// added) without `Shared`'s own interface changing, which left stale binaries that crashed.
let shared: [Target.Dependency] = [
    "Shared", "SwitchboardBase", "SwitchboardKafka", "SwitchboardEvents", "SwitchboardObservability",
    "SwitchboardStore", "SwitchboardHTTP", "SwitchboardRuntime", "SwitchboardGorgias", "SwitchboardSMS",
]

let package = Package(
    name: "switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["SwitchboardCLI"]),
        .executable(name: "InboundWorker", targets: ["InboundWorker"]),
        .executable(name: "OutboundWorker", targets: ["OutboundWorker"]),
        .executable(name: "StatusWorker", targets: ["StatusWorker"]),
        .library(name: "Shared", targets: ["Shared"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.25.0"),
        // Tests only: reading the compose and Kubernetes files.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        // Traces: the API, and its OTLP/HTTP exporter (without the gRPC one, which would double the build).
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        // Tests only: reading Twilio's published OpenAPI documents (contracts/), without its external loader.
        .package(url: "https://github.com/mattpolzin/OpenAPIKit.git", from: "6.4.0", traits: []),
    ],
    targets: [
        .systemLibrary(
            name: "Crdkafka",
            path: "Sources/Shared/CInterop/Crdkafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite3",
            path: "Sources/Shared/CInterop/CSQLite3",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            path: "Sources/Shared/CInterop/CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // The layers, bottom up; each module imports only those below it.
        // Concurrency helpers, configuration from the environment, and the failure vocabulary every layer speaks.
        .target(
            name: "SwitchboardBase",
            dependencies: [.product(name: "DequeModule", package: "swift-collections")],
            path: "Sources/Shared/Base",
            swiftSettings: swiftSettings
        ),
        // The C boundary and the Kafka client on librdkafka.
        .target(
            name: "SwitchboardKafka",
            dependencies: [
                "SwitchboardBase", "Crdkafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Shared/Kafka",
            swiftSettings: swiftSettings
        ),
        // Events: the CloudEvents envelope, the strict JSON parser, schema validation, typed payloads.
        .target(
            name: "SwitchboardEvents",
            dependencies: ["SwitchboardBase", "SwitchboardKafka", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Shared/Events",
            swiftSettings: swiftSettings,
            // `schemas/` at the top level is the contract; the plugin compiles it into every binary.
            plugins: ["EmbedSchemas"]
        ),
        // Logs, the metrics registry and catalog, and the /metrics, /healthz and /readyz server.
        .target(
            name: "SwitchboardObservability",
            dependencies: [
                "SwitchboardBase", "SwitchboardEvents",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            path: "Sources/Shared/Observability",
            swiftSettings: swiftSettings
        ),
        // The store on SQLite and PostgreSQL, with the sealed credentials and the runtime's ledger and parking.
        .target(
            name: "SwitchboardStore",
            dependencies: [
                "SwitchboardBase", "SwitchboardEvents", "SwitchboardObservability", "CSQLite3",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Sources/Shared/Store",
            swiftSettings: swiftSettings
        ),
        // The HTTP client on libcurl and rate budgets.
        .target(
            name: "SwitchboardHTTP",
            dependencies: [
                "SwitchboardBase", "SwitchboardObservability", "CCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Sources/Shared/HTTP",
            swiftSettings: swiftSettings
        ),
        // The worker runtime: key-ordered dispatch, offsets, retries, tiers, the DLQ, the breaker.
        .target(
            name: "SwitchboardRuntime",
            dependencies: [
                "SwitchboardBase", "SwitchboardKafka", "SwitchboardEvents", "SwitchboardObservability",
                "SwitchboardStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Sources/Shared/Runtime",
            swiftSettings: swiftSettings
        ),
        // The domain clients: Gorgias, and Twilio's SMS API.
        .target(
            name: "SwitchboardGorgias",
            dependencies: ["SwitchboardBase", "SwitchboardEvents", "SwitchboardHTTP", "SwitchboardStore"],
            path: "Sources/Shared/Gorgias",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchboardSMS",
            dependencies: [
                "SwitchboardBase", "SwitchboardEvents", "SwitchboardHTTP", "SwitchboardStore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/Shared/SMS",
            swiftSettings: swiftSettings
        ),
        // The top: what several workers share, a worker process's composition, and every layer re-exported.
        .target(
            name: "Shared",
            dependencies: [
                "SwitchboardBase", "SwitchboardKafka", "SwitchboardEvents", "SwitchboardObservability",
                "SwitchboardStore", "SwitchboardHTTP", "SwitchboardRuntime", "SwitchboardGorgias", "SwitchboardSMS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            exclude: [
                "CInterop", "KafkaMock", "TestKit", "Base", "Kafka", "Events", "Observability", "Store", "HTTP",
                "Runtime", "Gorgias", "SMS",
            ],
            swiftSettings: swiftSettings
        ),
        // librdkafka's mock cluster: linked by the CLI and the tests, never by a worker executable.
        .target(
            name: "KafkaMock",
            dependencies: shared + ["Crdkafka", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Shared/KafkaMock",
            swiftSettings: swiftSettings
        ),
        // Fakes and a manual clock for tests and benchmarks, never linked by a worker executable.
        .target(
            name: "TestKit",
            dependencies: ["SwitchboardStore"],
            path: "Sources/Shared/TestKit",
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "SchemaEmbedder", path: "Sources/SchemaEmbedder"),
        .plugin(
            name: "EmbedSchemas",
            capability: .buildTool(),
            dependencies: ["SchemaEmbedder"],
            path: "Sources/EmbedSchemasPlugin"
        ),
        .target(
            name: "Sandbox",
            dependencies: shared + [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(name: "LocalFleet", dependencies: shared + ["KafkaMock"], swiftSettings: swiftSettings),
        .target(
            name: "Ingress",
            dependencies: shared + [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "InboundWorker", dependencies: shared, swiftSettings: swiftSettings),
        .executableTarget(name: "OutboundWorker", dependencies: shared, swiftSettings: swiftSettings),
        .executableTarget(name: "StatusWorker", dependencies: shared, swiftSettings: swiftSettings),
        .executableTarget(
            name: "SwitchboardCLI",
            dependencies: shared + [
                "KafkaMock",
                "TestKit",
                "Sandbox",
                "LocalFleet",
                "Ingress",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // The providers' published contracts (contracts/) and the check of an exchange against them: tests only.
        .target(
            name: "ProviderContracts",
            dependencies: [
                "SwitchboardEvents", .product(name: "OpenAPIKit30", package: "OpenAPIKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: shared + [
                "KafkaMock", "TestKit", "Sandbox", "LocalFleet", "Ingress", "ProviderContracts",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SharedTests", dependencies: shared + ["Sandbox", "TestSupport", "ProviderContracts"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "InboundWorkerTests", dependencies: shared + ["InboundWorker", "Ingress", "Sandbox", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OutboundWorkerTests",
            dependencies: shared + ["OutboundWorker", "Sandbox", "TestSupport", "ProviderContracts"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StatusWorkerTests", dependencies: shared + ["StatusWorker", "TestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ContractTests",
            dependencies: shared + ["Sandbox", "TestSupport", "ProviderContracts", "Ingress"],
            swiftSettings: swiftSettings),
        .testTarget(name: "FaultTests", dependencies: shared + ["TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "BadInputTests", dependencies: shared + ["TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "IngressTests", dependencies: shared + ["Ingress", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "OperationsTests",
            dependencies: shared + ["Sandbox", "TestSupport", "Ingress", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
    ]
)
