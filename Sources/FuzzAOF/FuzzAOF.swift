import AOF
import Foundation
import FuzzSupport
import NIOCore

/// The append-only file reader: the scanner that finds entries, the MULTI/EXEC tracker
/// that follows them, and the manifest parser. Any bytes must give entries or an error
/// with an offset, never a crash, and the same entries however the file is read in blocks.
enum AOFCheck {
    /// Small limits, so that the fuzzer reaches them with short inputs.
    static let limits = AOFScanner.Limits(maxArguments: 16, maxBulkLength: 64, maxLineLength: 64)

    /// The entries (offset, length) and the error, if any, reading `reads` one after the other.
    static func scan(_ reads: [ArraySlice<UInt8>]) -> (entries: [Range<Int>], error: AOFError?) {
        var scanner = AOFScanner(limits: limits)
        var tracker = AOFTransactionTracker()
        var buffer = ByteBuffer()
        var entries: [Range<Int>] = []
        do {
            for read in reads {
                buffer.writeBytes(read)
                while let entry = try scanner.next(&buffer) {
                    entries.append(entry.offset..<entry.endOffset)
                    _ = entry.name
                    _ = entry.arguments
                    _ = try tracker.observe(entry)
                }
            }
        } catch {
            return (entries, error)
        }
        return (entries, nil)
    }

    static func run(_ bytes: [UInt8]) {
        let whole = scan([bytes[...]])
        for reads in FuzzInput.readings(of: bytes) {
            let pieces = scan(reads)
            guard pieces.entries == whole.entries, pieces.error == whole.error else {
                fatalError("\(reads.count) reads scan differently from one: \(pieces.entries) vs \(whole.entries), \(String(describing: pieces.error)) vs \(String(describing: whole.error))")
            }
        }
        // A manifest is text of the same kind of size: parse it, and render what parses.
        if let manifest = try? AOFManifest.parse(String(decoding: bytes, as: UTF8.self)) {
            _ = manifest.render()
        }
    }
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAOF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    AOFCheck.run(FuzzInput.bytes(data, size))
    return 0
}

#if !FUZZING
/// Without libFuzzer: replays the files named on the command line.
@main enum FuzzAOFReplay {
    static func main() {
        exit(FuzzInput.replay(Array(CommandLine.arguments.dropFirst()), AOFCheck.run))
    }
}
#endif
