import Foundation
import Operations
import Testing

/// Servers the Lab starts get stdin, stdout and stderr from redkeep and nothing else.
@Suite struct ChildProcessDescriptorTests {
    /// A pipe redkeep holds open (without close-on-exec, as an inherited descriptor would
    /// be) is not open in the server: a parent reading that pipe sees its end when redkeep
    /// exits, even while a kept server runs on.
    @Test func aLabServerInheritsNoOtherDescriptor() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let ours = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(ends[1])")
        #expect(ours.hasPrefix("pipe:["))
        try await withLab { lab in
            let server = try await lab.start("m")
            let folder = "/proc/\(server.pid)/fd"
            let open = try FileManager.default.contentsOfDirectory(atPath: folder)
            let targets = open.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\($0)") }
            #expect(!targets.isEmpty)
            #expect(!targets.contains(ours), "the server holds redkeep's pipe \(ours): \(targets)")
        }
    }
}
