// swift-tools-version: 6.2
//
// Products and their names (see README, "Layout"):
// - `strata` (dynamic) is libstrata.so, the C ABI of include/strata/*.h. C and
//   Python link it by that name, so the library gets the name.
// - SwiftPM refuses an executable product with the same name as a library
//   product, so the CLI product is `strata-cli`; scripts/build links
//   `strata` -> `strata-cli` in the build folder, and the CLI calls itself
//   `strata` in its help.
// - `strata-memory` is the in-memory store as a run-time plugin
//   (libstrata-memory.so), built from the same code as the built-in store.
// - `strata-sqlite` is the SQLite store (libstrata-sqlite.so), on the SQLite C
//   API from Debian's libsqlite3-dev.
// - `strata-file` is the file store (libstrata-file.so): an append-only,
//   checksummed log plus a snapshot. Its store lives in `StrataFileStore` and
//   the plugin target holds only the entry symbol, so tests link the store
//   without a second `strata_plugin_entry` in the test binary.
// - `StrataServer` (`strata serve`, Hummingbird 2) is linked by the CLI only: libstrata.so and
//   the plugins never link SwiftNIO, and scripts/sanitize and scripts/fuzz build products that
//   do not reach it.
// - `StrataMCP` (`strata mcp`, and `POST /mcp` through StrataServer; the MCP Swift SDK) is
//   linked by the CLI and the server only, never by libstrata.so or the plugins.
import PackageDescription

/// Only libstrata.so and the plugins export C symbols; a version script keeps
/// every Swift symbol local (without it a debug build exports ~200 of them).
func exportsOnly(_ script: String) -> [LinkerSetting] {
    [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/\(script)"])]
}

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Strata",
    products: [
        .library(name: "strata", type: .dynamic, targets: ["Strata"]),
        .library(name: "StrataEngine", targets: ["StrataEngine"]),
        .library(name: "StrataWire", targets: ["StrataWire"]),
        .library(name: "StrataTesting", targets: ["StrataTesting"]),
        .library(name: "strata-memory", type: .dynamic, targets: ["StrataMemoryPlugin"]),
        .library(name: "strata-sqlite", type: .dynamic, targets: ["StrataSQLitePlugin"]),
        .library(name: "strata-file", type: .dynamic, targets: ["StrataFilePlugin"]),
        .library(name: "strata-tensor", type: .dynamic, targets: ["StrataTensorPlugin"]),
        .library(name: "strata-minilm", type: .dynamic, targets: ["StrataMiniLMPlugin"]),
        .executable(name: "strata-cli", targets: ["StrataCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The server only (StrataServer, linked by the CLI): libstrata.so and the plugins never
        // link SwiftNIO or the metrics packages (Tests/cli/test_wire.py checks). swift-prometheus
        // (its registry and text format for GET /metrics) brings swift-metrics' CoreMetrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already resolved for Hummingbird; named so the server can run its tasks on the event
        // loops (EventLoopExecutor).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        // Already resolved for Hummingbird; named for NIOHTTPTypes' request and answer parts,
        // which the recall fast lane reads and writes in the channel pipeline (RecallFastLane).
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The MCP server only (StrataMCP, linked by the CLI and the server): the Model Context
        // Protocol's Swift SDK. libstrata.so and the plugins never link it.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", exact: "0.12.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The published C headers (include/strata/*.h); no logic.
        .target(name: "CStrata", path: "Sources/CStrata"),
        // The ELF note that identifies a Swift plugin file before it is loaded (plugin.h).
        .target(name: "CStrataPluginNote", dependencies: ["CStrata"], path: "Sources/CStrataPluginNote"),
        // dladdr is hidden from Swift's Glibc module (_GNU_SOURCE); five lines of C expose it.
        .target(name: "CStrataShim", path: "Sources/CStrataShim"),
        // OpenBLAS from Debian (libopenblas-dev) for exact search in batches.
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // SQLite from Debian (libsqlite3-dev, with FTS5) for the SQLite store plugin.
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // CStrataSIMD gives the core its hardware CRC-32C (SSE4.2), picked at run time.
        .target(name: "StrataCore", dependencies: ["CStrataSIMD"], swiftSettings: swiftSettings),
        .target(
            name: "StrataBackends", dependencies: ["StrataCore", "CStrataSIMD"],
            swiftSettings: swiftSettings + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "StrataEngine", dependencies: ["StrataCore", "StrataBackends"], swiftSettings: swiftSettings),
        // The JSON of requests, answers and errors, and the configuration file: one wire format
        // for the C ABI, the CLI's --json and the server. The engine takes and returns typed values.
        .target(name: "StrataWire", dependencies: ["StrataCore", "StrataEngine"], swiftSettings: swiftSettings),
        // `strata serve`: REST and WebSocket over one engine, scoped tokens, MCP at /mcp (Hummingbird 2),
        // the OpenAPI document (docs/openapi.json, embedded), Prometheus metrics, request ids in the logs.
        .target(
            name: "StrataServer",
            dependencies: [
                "StrataCore", "StrataEngine", "StrataWire", "StrataMCP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings),
        // `strata mcp` and `POST /mcp`: the memory verbs as MCP tools (modelcontextprotocol/swift-sdk),
        // bounded by a scope and a role; the JSON of StrataWire. No Hummingbird here: the server
        // target adapts its HTTP requests to the SDK's transport.
        .target(
            name: "StrataMCP",
            dependencies: [
                "StrataCore", "StrataEngine", "StrataWire",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "StrataPlugins", dependencies: ["StrataCore", "StrataBackends", "CStrata", "CStrataShim"],
            swiftSettings: swiftSettings),
        .target(
            name: "Strata", dependencies: ["StrataEngine", "StrataWire", "StrataPlugins", "CStrata"],
            exclude: ["exports.map"], swiftSettings: swiftSettings,
            linkerSettings: exportsOnly("Sources/Strata/exports.map")),
        .target(
            name: "StrataTesting", dependencies: ["StrataCore", "StrataBackends", "StrataPlugins", "CStrata"],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "StrataCLI",
            dependencies: [
                "StrataEngine", "StrataWire", "StrataServer", "StrataMCP", "StrataPlugins", "StrataTesting", "StrataBackends", "CStrataSIMD",
                "CSQLite",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // Plugins: one dynamic product each.
        .target(
            name: "StrataMemoryPlugin", dependencies: ["StrataBackends", "StrataPlugins", "CStrata", "CStrataPluginNote"],
            path: "plugins/memory", swiftSettings: swiftSettings,
            linkerSettings: exportsOnly("plugins/plugin-exports.map")),

        .target(
            name: "StrataSQLitePlugin", dependencies: ["StrataBackends", "StrataPlugins", "CStrata", "CSQLite", "CStrataPluginNote"],
            path: "plugins/sqlite", swiftSettings: swiftSettings,
            linkerSettings: exportsOnly("plugins/plugin-exports.map")),

        .target(
            name: "StrataFileStore", dependencies: ["StrataBackends", "StrataCore"],
            path: "plugins/file/Store", swiftSettings: swiftSettings),
        .target(
            name: "StrataFilePlugin", dependencies: ["StrataFileStore", "StrataPlugins", "CStrata", "CStrataPluginNote"],
            path: "plugins/file/Plugin", swiftSettings: swiftSettings,
            linkerSettings: exportsOnly("plugins/plugin-exports.map")),

        // plugins/tensor: the memory kernels (PMM, Slot, KV, Ring, fractal), and
        // libstrata-tensor.so serving them through the memory-kernel seam.
        // Their matrix products (weights packed once) and per-row vector loops in C, built for
        // AVX-512, AVX2 and baseline x86-64 and picked at load time (the Swift build targets
        // baseline x86-64). They beat OpenBLAS on the kernels' shapes (bench/gemm_bench.c).
        .target(name: "CStrataSIMD", path: "Sources/CStrataSIMD", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "StrataTensor", dependencies: ["StrataCore", "CStrataSIMD"], path: "plugins/tensor/Kernels",
            swiftSettings: swiftSettings + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(
            name: "StrataTensorPlugin", dependencies: ["StrataTensor", "StrataPlugins", "CStrata", "CStrataPluginNote"],
            path: "plugins/tensor/Plugin", swiftSettings: swiftSettings,
            linkerSettings: exportsOnly("plugins/plugin-exports.map")),

        // plugins/minilm: the all-MiniLM-L6-v2 sentence embedder (tokenizer, encoder, model
        // folder) in StrataMiniLM, its products on StrataTensor's packed layers and row workers,
        // its per-token loops in C at -O3 (so a debug build stays usable); libstrata-minilm.so
        // serves it through the embedder seam. No Foundation, no NIO.
        .target(name: "CStrataMiniLM", dependencies: ["CStrataSIMD"], path: "plugins/minilm/C", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "StrataMiniLM", dependencies: ["StrataCore", "StrataPlugins", "StrataTensor", "CStrataMiniLM"], path: "plugins/minilm/Embedder",
            swiftSettings: swiftSettings),
        .target(
            name: "StrataMiniLMPlugin", dependencies: ["StrataMiniLM", "StrataPlugins", "CStrata", "CStrataPluginNote"],
            path: "plugins/minilm/Plugin", swiftSettings: swiftSettings,
            linkerSettings: exportsOnly("plugins/plugin-exports.map")),

        // examples/swift: the Swift quickstart, built and run by scripts/test.
        .executableTarget(
            name: "StrataQuickstart", dependencies: ["StrataEngine"], path: "examples/swift", swiftSettings: swiftSettings),

        .testTarget(name: "StrataCoreTests", dependencies: ["StrataCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataBackendsTests", dependencies: ["StrataBackends", "StrataTesting", "CStrataSIMD"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataEngineTests", dependencies: ["StrataEngine", "StrataTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataWireTests", dependencies: ["StrataWire", "StrataEngine", "StrataTesting"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataServerTests", dependencies: [
                "StrataServer", "StrataEngine", "StrataWire", "StrataTesting",
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataMCPTests", dependencies: ["StrataMCP", "StrataEngine", "StrataTesting", .product(name: "MCP", package: "swift-sdk")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataSQLitePluginTests",
            dependencies: ["StrataSQLitePlugin", "StrataPlugins", "StrataTesting", "StrataEngine"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataFilePluginTests", dependencies: ["StrataFileStore", "StrataPlugins", "StrataTesting", "StrataEngine"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataTensorTests", dependencies: ["StrataTensor", "StrataPlugins", "StrataTesting", "CStrataSIMD", "COpenBLAS"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataMiniLMTests", dependencies: ["StrataMiniLM", "StrataPlugins", "StrataTesting", "StrataCore"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StrataPluginsTests", dependencies: ["StrataPlugins", "StrataTesting", "StrataEngine", "StrataBackends"],
            swiftSettings: swiftSettings),
    ]
)

// fuzz/: the libFuzzer harnesses (fuzz/README.md), only when scripts/fuzz builds them
// (STRATA_FUZZ=1, into .build-fuzz with --sanitize=fuzzer,address): the normal build never
// sees this target. `-parse-as-library` because libFuzzer supplies `main`.
if Context.environment["STRATA_FUZZ"] == "1" {
    package.targets.append(
        .executableTarget(
            name: "StrataFuzz",
            dependencies: ["StrataEngine", "StrataWire", "StrataPlugins", "StrataFileStore", "StrataSQLitePlugin", "StrataCore", "CSQLite"],
            path: "fuzz/Harness",
            swiftSettings: swiftSettings + [.unsafeFlags(["-parse-as-library"])]))
}
