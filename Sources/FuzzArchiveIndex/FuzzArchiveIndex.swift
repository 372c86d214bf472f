import Foundation
import FuzzSupport
import Operations

/// The archive's index reader: any `archive.json` and `index.jsonl` must read into records
/// or fail with an error naming the file and line, never crash; the views the collector
/// and the restore use must hold for whatever was read. The input's first line is the
/// descriptor and the rest the index, written into a local archive made once per process
/// in a temporary folder and read as `archive` commands read it.
enum ArchiveIndexCheck {
    static let root: String = {
        let root = NSTemporaryDirectory() + "redkeep-fuzz-archive-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot make the archive folder \(root): \(error)")
        }
        // libFuzzer ends the process with exit(): the folder goes then.
        atexit { try? FileManager.default.removeItem(atPath: ArchiveIndexCheck.root) }
        return root
    }()

    static func run(_ bytes: [UInt8]) {
        let split = bytes.firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? bytes.count
        for (key, contents) in [(ArchiveLayout.descriptorKey, bytes[..<split]), (ArchiveLayout.indexKey, bytes[split...])] {
            // In place and without fsync (Data.write syncs): a write per file per input.
            let path = root + "/" + key
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            let written = fd < 0 ? -1 : contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if fd >= 0 { close(fd) }
            guard written == contents.count else { fatalError("cannot write \(path): \(String(cString: strerror(errno)))") }
        }
        guard let index = try? ArchiveIndex.read(root) else { return }
        for stream in Set(index.streams.map(\.stream) + index.chunks.map(\.stream)) {
            _ = index.copiedBytes(of: stream)
            _ = index.endSize(of: stream)
        }
        _ = index.generations
        _ = index.marks
        // What `archive timeline` shows: spans, buckets of writes over the coverage.
        _ = ArchiveTimeline.make(index).sparkline
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
