// swift-tools-version:6.1
// redkeep: an operator's shell for keeping Redis data safe.
// Layers, each one library target, imports only pointing down:
//   redkeep (executable) -> Shell -> Operations -> RedisClient -> AOF -> RESP
//   (AOF and Operations also use RDB: bytes in, no I/O policy)
// (Demos, the teaching demos and benchmarks, sits beside Operations: Shell -> Demos -> Operations.)
import PackageDescription

let package = Package(
    name: "redkeep",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "redkeep", targets: ["redkeep"]),
        .library(name: "RESP", targets: ["RESP"]),
        .library(name: "RedisClient", targets: ["RedisClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // TLS for the client (rediss://, --tls).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // SHA-256 of archive chunks and snapshot copies.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // Latency percentiles of the benchmarks.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // HTTP for the S3 client (archives kept in object storage).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // GNU readline, found through pkg-config (readline.pc from libreadline-dev).
        .systemLibrary(
            name: "CReadline",
            pkgConfig: "readline",
            providers: [.apt(["libreadline-dev"])]
        ),
        // RESP2/RESP3 values, encoder and incremental decoder. Bytes only, no I/O.
        .target(name: "RESP", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        // Reading Redis append-only files. No network.
        .target(name: "AOF", dependencies: ["RESP", "RDB", .product(name: "NIOCore", package: "swift-nio")]),
        // Reading RDB files and making DUMP payloads from their keys. Bytes in, no I/O.
        .target(name: "RDB"),
        // The Redis client on SwiftNIO: TCP and unix sockets, AUTH/HELLO, pipelining, INFO.
        .target(
            name: "RedisClient",
            dependencies: [
                "RESP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        // A small S3 client: SigV4 signing, credentials, objects. No redkeep dependency.
        .target(
            name: "S3",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // What an operator does: local servers (Lab), and later save, chunk, restore...
        .target(
            name: "Operations",
            dependencies: [
                "RedisClient", "AOF", "RDB", "RESP",
                // Archives in object storage, and the Lab's local object stores.
                "S3",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Teaching demos and benchmarks (the marketplace of Redis in Action 4.4, pipelining
        // and client benchmarks): apart from Operations so the core does not link the histogram.
        .target(
            name: "Demos",
            dependencies: [
                "Operations", "RedisClient", "RESP",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // The redkeep language: lexer, parser, evaluator, command registry, output.
        .target(
            name: "Shell",
            dependencies: [
                "Operations", "Demos", "RedisClient", "AOF", "RDB", "RESP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The thin executable: command line, prompt (readline), script runner.
        .executableTarget(
            name: "redkeep",
            dependencies: [
                "Shell", "CReadline",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            // The Swift runtime and Foundation linked in (release builds on Linux): the
            // dynamic loader's relocations of libFoundation, ICU and the runtime were a
            // third of every command's start-up (docs/performance.md, restore-rdb).
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-lCoreFoundation", "-l_FoundationCShims", "-l_FoundationCollections", "-l_FoundationICU", "-lstdc++"], .when(platforms: [.linux], configuration: .release))]
        ),
        // Benchmarks compared side by side with the reference tools (scripts/bench).
        .executableTarget(
            name: "redkeep-bench",
            dependencies: [
                "RESP", "RedisClient", "Operations", "Demos", "RDB",
                // The s3 benchmark's local object store keys.
                "S3",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fuzzing harnesses, run by scripts/fuzz (docs/fuzzing.md): built there with
        // --sanitize=fuzzer -Xswiftc -DFUZZING for libFuzzer; an ordinary build makes them
        // replay the files they are given, so they build (and keep working) everywhere.
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzLanguage", dependencies: ["Shell", "FuzzSupport"]),
        .executableTarget(
            name: "FuzzRESP", dependencies: ["RESP", "FuzzSupport", .product(name: "NIOCore", package: "swift-nio")]),
        .executableTarget(
            name: "FuzzAOF", dependencies: ["AOF", "FuzzSupport", .product(name: "NIOCore", package: "swift-nio")]),
        .executableTarget(name: "FuzzArchiveIndex", dependencies: ["Operations", "FuzzSupport"]),
        .executableTarget(name: "FuzzRDB", dependencies: ["RDB", "FuzzSupport"]),
        // Unit tests: no server needed.
        .testTarget(name: "RESPTests", dependencies: ["RESP", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "AOFTests", dependencies: ["AOF", "RDB", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "RDBTests", dependencies: ["RDB"]),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                "RedisClient", "RESP",
                .product(name: "NIOCore", package: "swift-nio"),
                // NIOAsyncTestingChannel: the channel handler's states without a server.
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "Operations", "AOF", "RDB", "RESP",
                .product(name: "NIOCore", package: "swift-nio"),
                // NIOAsyncTestingChannel: the replica link's states without a server.
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "S3Tests",
            dependencies: [
                "S3",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "ShellTests",
            dependencies: ["Shell", "RESP", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // Integration tests: real redis-server processes started by the Lab.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Operations", "Demos", "RedisClient", "AOF", "RDB", "RESP", "S3",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ]
)
