// swift-tools-version:6.1
import PackageDescription

/// One settings list for every target: Swift 6 language mode is the default for tools 6.x;
/// these upcoming features keep imports and existentials explicit.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "switchboard",
    platforms: [.macOS(.v15)],
    products: [
        // The deployable services: the three workers, the ingress (webhooks, OAuth) and the operators' console.
        .executable(name: "InboundWorker", targets: ["InboundWorker"]),
        .executable(name: "OutboundWorker", targets: ["OutboundWorker"]),
        .executable(name: "StatusWorker", targets: ["StatusWorker"]),
        .executable(name: "switchboard-ingress", targets: ["IngressService"]),
        .executable(name: "switchboard-console", targets: ["ConsoleService"]),
        // The operators' command line (accounts, consent, dlq, lag, topics, trace, produce, migrate).
        .executable(name: "switchboard", targets: ["SwitchboardCLI"]),
        // Developer tools: the local fleet, benchmarks, the sandbox and the embedded broker. Never deployed.
        .executable(name: "switchboard-dev", targets: ["DevTools"]),
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
        // The C libraries, through pkg-config.
        .systemLibrary(name: "Crdkafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // The layers, bottom up. Each imports only layers below it, and names each one it imports
        // (`LayerImportsTests`); the HTTP client and the store build without librdkafka.
        // Concurrency helpers, the clock, configuration from the environment, the failure vocabulary.
        .target(
            name: "SwitchboardBase",
            dependencies: [.product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: swiftSettings
        ),
        // JSON values, the strict parser, schema validation, and RFC 3339 dates.
        .target(name: "SwitchboardJSON", swiftSettings: swiftSettings),
        // What Switchboard is about: accounts, conversations, consent, phone numbers, outbound messages.
        .target(
            name: "SwitchboardDomain", dependencies: ["SwitchboardBase"],
            swiftSettings: swiftSettings),
        // The Kafka client on librdkafka.
        .target(
            name: "SwitchboardKafka",
            dependencies: [
                "Crdkafka",
                "SwitchboardBase", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Events: the CloudEvents envelope, schema validation, typed payloads.
        .target(
            name: "SwitchboardEvents",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings,
            // `schemas/` at the top level is the contract; the plugin compiles it into every binary.
            plugins: ["EmbedSchemas"]
        ),
        // Logs, the metrics registry and catalog, traces, and the /metrics, /healthz and /readyz server.
        .target(
            name: "SwitchboardObservability",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            swiftSettings: swiftSettings
        ),
        // The store on SQLite and PostgreSQL, with the sealed credentials and the runtime's ledger and parking.
        .target(
            name: "SwitchboardStore",
            dependencies: [
                "CSQLite3",
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardObservability",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP client on libcurl, and rate budgets.
        .target(
            name: "SwitchboardHTTP",
            dependencies: [
                "CCurl",
                "SwitchboardBase", "SwitchboardObservability", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The worker runtime: key-ordered dispatch, offsets, retries, tiers, the DLQ, the breaker.
        .target(
            name: "SwitchboardRuntime",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardKafka", "SwitchboardEvents",
                "SwitchboardObservability", "SwitchboardStore", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The providers' clients: Gorgias, and Twilio's SMS API.
        .target(
            name: "SwitchboardGorgias",
            dependencies: ["SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardHTTP"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchboardSMS",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // What every worker process is made of, and what several workers share (follow-ups, notes, one-off SMS).
        .target(
            name: "WorkerKit",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka",
                "SwitchboardObservability", "SwitchboardStore", "SwitchboardHTTP", "SwitchboardRuntime",
                "SwitchboardGorgias", "SwitchboardSMS", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "SchemaEmbedder"),
        .plugin(
            name: "EmbedSchemas", capability: .buildTool(), dependencies: ["SchemaEmbedder"],
            path: "Sources/EmbedSchemasPlugin"),

        // The products.
        .executableTarget(
            name: "InboundWorker",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardEvents", "SwitchboardStore",
                "SwitchboardHTTP", "SwitchboardRuntime", "SwitchboardGorgias", "SwitchboardSMS", "WorkerKit",
            ], swiftSettings: swiftSettings),
        .executableTarget(
            name: "OutboundWorker",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardEvents", "SwitchboardStore",
                "SwitchboardRuntime", "SwitchboardGorgias", "SwitchboardSMS", "WorkerKit",
            ], swiftSettings: swiftSettings),
        .executableTarget(
            name: "StatusWorker",
            dependencies: [
                "SwitchboardBase", "SwitchboardDomain", "SwitchboardEvents", "SwitchboardObservability",
                "SwitchboardStore", "SwitchboardRuntime", "SwitchboardGorgias", "SwitchboardSMS", "WorkerKit",
            ], swiftSettings: swiftSettings),
        // What every web surface shares: pages sent with a strict policy, signed-in sessions, same-origin checks.
        .target(
            name: "SwitchboardWeb",
            dependencies: [
                "SwitchboardBase", "SwitchboardStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Webhooks from Gorgias and Twilio, and Gorgias OAuth: the library, and the service that runs it.
        .target(
            name: "Ingress",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardEvents",
                "SwitchboardObservability", "SwitchboardStore", "SwitchboardHTTP", "SwitchboardRuntime",
                "SwitchboardGorgias", "SwitchboardSMS", "WorkerKit", "SwitchboardWeb",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "IngressService",
            dependencies: [
                "SwitchboardBase", "SwitchboardKafka", "SwitchboardObservability", "SwitchboardStore",
                "SwitchboardHTTP", "SwitchboardGorgias", "WorkerKit", "Ingress", "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the operators' command line and console share: reading the store and Kafka, printing tables.
        .target(
            name: "OperatorKit",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardEvents",
                "SwitchboardObservability", "SwitchboardStore", "SwitchboardRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ConsoleService",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardStore",
                "SwitchboardHTTP", "SwitchboardRuntime", "SwitchboardWeb", "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SwitchboardCLI",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardEvents",
                "SwitchboardStore", "SwitchboardHTTP", "SwitchboardRuntime", "SwitchboardGorgias", "SwitchboardSMS",
                "WorkerKit", "Ingress", "OperatorKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // Developer tools and their parts: never linked by a product above (`ExecutableSymbolsTests`).
        // librdkafka's mock cluster.
        .target(
            name: "KafkaMock",
            dependencies: [
                "Crdkafka",
                "SwitchboardBase", "SwitchboardKafka", "SwitchboardEvents", "SwitchboardRuntime",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Fakes and a manual clock for tests and benchmarks.
        .target(name: "TestKit", dependencies: ["SwitchboardBase", "SwitchboardStore"], swiftSettings: swiftSettings),
        // Gorgias and Twilio as their documents describe them, for `switchboard-dev` and the tests.
        .target(
            name: "Sandbox",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardHTTP", "SwitchboardGorgias",
                "SwitchboardSMS", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Worker processes, brokers and a throwaway PostgreSQL started locally.
        .target(
            name: "LocalFleet", dependencies: ["SwitchboardKafka", "SwitchboardRuntime", "KafkaMock"],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "DevTools",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardEvents",
                "SwitchboardObservability", "SwitchboardStore", "SwitchboardHTTP", "SwitchboardRuntime",
                "SwitchboardGorgias", "SwitchboardSMS", "WorkerKit", "Ingress", "OperatorKit", "KafkaMock", "TestKit",
                "Sandbox", "LocalFleet", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The providers' published contracts (contracts/) and the check of an exchange against them: tests only.
        .target(
            name: "ProviderContracts",
            dependencies: ["SwitchboardJSON", .product(name: "OpenAPIKit30", package: "OpenAPIKit")],
            swiftSettings: swiftSettings
        ),

        // Tests.
        .target(
            name: "TestSupport",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardEvents",
                "SwitchboardStore", "SwitchboardHTTP", "SwitchboardRuntime", "SwitchboardGorgias", "SwitchboardSMS",
                "WorkerKit", "Ingress", "KafkaMock", "TestKit", "Sandbox", "LocalFleet", "ProviderContracts",
                .product(name: "Logging", package: "swift-log"), .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SharedTests",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardEvents",
                "SwitchboardObservability", "SwitchboardStore", "SwitchboardHTTP", "SwitchboardRuntime",
                "SwitchboardGorgias", "SwitchboardSMS", "WorkerKit", "KafkaMock", "TestKit", "Sandbox", "LocalFleet",
                "ProviderContracts", "TestSupport", "SwitchboardWeb",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "InboundWorkerTests",
            dependencies: [
                "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardEvents", "SwitchboardStore",
                "SwitchboardHTTP", "SwitchboardRuntime", "SwitchboardGorgias", "SwitchboardSMS", "Ingress", "Sandbox",
                "LocalFleet", "TestSupport", "InboundWorker",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OutboundWorkerTests",
            dependencies: [
                "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardStore", "SwitchboardHTTP",
                "SwitchboardGorgias", "SwitchboardSMS", "WorkerKit", "Sandbox", "LocalFleet", "ProviderContracts",
                "TestSupport", "OutboundWorker",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StatusWorkerTests",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardEvents", "SwitchboardStore",
                "SwitchboardHTTP", "SwitchboardRuntime", "LocalFleet", "TestSupport",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ContractTests",
            dependencies: [
                "SwitchboardJSON", "SwitchboardDomain", "SwitchboardHTTP", "SwitchboardGorgias", "SwitchboardSMS",
                "Sandbox", "ProviderContracts", "TestSupport",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "FaultTests",
            dependencies: [
                "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardEvents", "SwitchboardStore",
                "SwitchboardRuntime", "KafkaMock", "LocalFleet", "TestSupport",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "BadInputTests",
            dependencies: [
                "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardEvents", "SwitchboardStore",
                "SwitchboardRuntime", "Sandbox", "LocalFleet", "TestSupport",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "IngressTests",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardEvents",
                "SwitchboardStore", "SwitchboardHTTP", "SwitchboardSMS", "WorkerKit", "Ingress", "LocalFleet",
                "TestSupport",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "SwitchboardBase", "SwitchboardJSON", "SwitchboardDomain", "SwitchboardKafka", "SwitchboardEvents",
                "SwitchboardObservability", "SwitchboardStore", "SwitchboardHTTP", "SwitchboardRuntime", "Ingress",
                "KafkaMock", "Sandbox", "LocalFleet", "TestSupport", .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
