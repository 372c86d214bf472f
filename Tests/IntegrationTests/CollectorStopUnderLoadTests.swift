import Foundation
import Operations
import RESP
import RedisClient
import Testing

/// A pass used to copy until it reached the file's end: under writes faster than the
/// collector copies (1 KB chunks, each made durable), it never did, so neither the AOF
/// watch nor a stop ever came. A stop now copies what was behind when it began and ends
/// (the time limit is what fails otherwise); what it left is copied by the next run.
@Suite(.serialized) struct CollectorStopUnderLoadTests {
    @Test(.timeLimit(.minutes(2))) func aStopEndsWhileWritesOutpaceTheCollector() async throws {
        try await withLab { lab in
            let server = try await lab.start("m", CollectorTests.serverOptions())
            let archive = try restoreTemporaryFolder("archive", in: lab)
            let options = CollectorOptions(archive: archive, chunkSize: 1024, pause: .zero, interval: .milliseconds(50), rate: nil)
            let loads = [CollectorTests.Load(server.connectionConfiguration), CollectorTests.Load(server.connectionConfiguration)]
            do {
                let collector = try await Collector.open(name: "m", source: server.connectionConfiguration, options: options)
                let run = Task.detached { await collector.run() }
                try await Task.sleep(for: .milliseconds(500))
                collector.requestStop()
                await run.value
            }
            for load in loads { _ = try await load.finish() }
            // What was archived is sound; a second run copies the rest, and then the
            // archive equals the AOF.
            #expect(try ArchiveVerifyResult.run(try ArchiveIndex.read(archive)).isSound)
            let again = try await Collector.open(name: "m", source: server.connectionConfiguration, options: options)
            let rest = Task.detached { await again.run() }
            again.requestStop()
            await rest.value
            try ArchiveVerification.verify(archive: archive, aofDirectory: CollectorTests.aofDirectory(server))
        }
    }
}
