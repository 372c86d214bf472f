import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE (RESP2 and RESP3) and MONITOR at the prompt print what arrives until Ctrl-C,
/// as redis-cli does; the next command reconnects.
@Suite struct ConnectionStreamTests {
    @Test(.timeLimit(.minutes(2))) func subscribeAndMonitorPrintUntilCtrlC() async throws {
        try await withLab { lab in
            let server = try await lab.start("streams")
            let probe = try await RedisConnection.connect(server.connectionConfiguration)
            defer { Task { await probe.close() } }
            let (pty, _, folder) = try PromptTests.session()
            defer { pty.terminate(); try? FileManager.default.removeItem(atPath: folder) }
            let port = server.port
            try pty.expect("redkeep> ")
            for (name, options) in [("two", ""), ("three", " --resp3")] {
                pty.send("connect \(name) 127.0.0.1:\(port)\(options)\r")
                try pty.expect("\(port)> ")
                for (subscribe, publish) in [("SUBSCRIBE news", "PUBLISH"), ("PSUBSCRIBE ne*", "PUBLISH"), ("SSUBSCRIBE news", "SPUBLISH")] {
                    pty.send(subscribe + "\r")
                    // Once the confirmation is shown the server has the subscription.
                    try pty.expect("Reading messages... (press Ctrl-C to quit)")
                    let message = "hello-\(name)-\(publish)-\(subscribe.prefix(2))"
                    _ = try await probe.send([.string(publish), "news", .string(message)])
                    try pty.expect(message)
                    pty.send("\u{03}")
                    try pty.expect("interrupted")
                    try pty.expect("\(port)> ")
                    try pty.type("PING", expecting: "PONG", prompt: "\(port)> ")
                }
            }
            pty.send("MONITOR\r")
            try pty.expect("OK")
            _ = try await probe.send(["SET", "monitored-key", "1"])
            try pty.expect("\"monitored-key\"")
            pty.send("\u{03}")
            try pty.expect("interrupted")
            try pty.type("GET monitored-key", expecting: "\"1\"", prompt: "\(port)> ")
            pty.send("\u{04}")
            #expect(try pty.waitForExit(timeout: .seconds(20)) == 0)
        }
    }

    @Test func aConsumerMaySendOnItsOwnConnection() async throws {
        try await withLab { lab in
            let server = try await lab.start("streams")
            for version in [2, 3] {
                var configuration = server.connectionConfiguration
                configuration.protocolVersion = version
                let subscriber = try await RedisConnection.connect(configuration)
                let publisher = try await RedisConnection.connect(server.connectionConfiguration)
                var kinds: [String] = []
                for try await message in subscriber.stream(["SUBSCRIBE", "a"]) {
                    let items = message.elements ?? []
                    kinds.append(items.first?.string ?? "?")
                    if kinds.count == 1 { _ = try await publisher.send(["PUBLISH", "a", "bye"]) }
                    if items.last == .bulk("bye") {
                        // From the consumer itself: the confirmation ends the stream.
                        _ = try await subscriber.reply(to: ["UNSUBSCRIBE", "a"])
                    }
                }
                #expect(kinds == ["subscribe", "message", "unsubscribe"], "RESP\(version)")
                #expect(try await subscriber.send(["PING"]) == .simple("PONG"), "RESP\(version)")
                await subscriber.close()
                await publisher.close()
            }
        }
    }
}
