import Foundation
import FuzzSupport
import Operations

/// The archive's index reader: any `index.jsonl` must read into records or fail with an
/// error naming the line, never crash; the views the collector and the restore use must
/// hold for whatever was read. The reader reads a folder, so the input is written as the
/// index of one archive, made once per process in a temporary folder.
enum ArchiveIndexCheck {
    static let root: String = {
        let root = NSTemporaryDirectory() + "redkeep-fuzz-archive-\(getpid())"
        let descriptor = #"{"created":1700000000,"format":1,"source":"127.0.0.1:6379"}"# + "\n"
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try Data(descriptor.utf8).write(to: URL(fileURLWithPath: ArchiveLayout(root: root).descriptorPath))
        } catch {
            fatalError("cannot make the archive folder \(root): \(error)")
        }
        // libFuzzer ends the process with exit(): the folder goes then.
        atexit { try? FileManager.default.removeItem(atPath: ArchiveIndexCheck.root) }
        return root
    }()

    static func run(_ bytes: [UInt8]) {
        let layout = ArchiveLayout(root: root)
        guard FileManager.default.createFile(atPath: layout.indexPath, contents: Data(bytes)) else {
            fatalError("cannot write \(layout.indexPath)")
        }
        guard let index = try? ArchiveIndex.read(root) else { return }
        for stream in Set(index.streams.map(\.stream) + index.chunks.map(\.stream)) {
            _ = index.copiedBytes(of: stream)
            _ = index.endSize(of: stream)
        }
        _ = index.generations
        _ = index.marks
    }
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchiveIndex(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    ArchiveIndexCheck.run(FuzzInput.bytes(data, size))
    return 0
}

#if !FUZZING
/// Without libFuzzer: replays the files named on the command line.
@main enum FuzzArchiveIndexReplay {
    static func main() {
        exit(FuzzInput.replay(Array(CommandLine.arguments.dropFirst()), ArchiveIndexCheck.run))
    }
}
#endif
