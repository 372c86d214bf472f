import Foundation
import FuzzSupport
import NIOCore
import RESP

/// The RESP decoder, as a connection feeds it: any bytes must decode into messages or
/// fail with an offset, never crash, and the same whether they arrive at once, in two
/// reads or one byte at a time (the decoder resumes where a read ended).
enum RESPCheck {
    /// Small limits, so that the fuzzer reaches them with short inputs.
    static let limits = RESPDecoder.Limits(maxDepth: 8, maxBulkLength: 64, maxAggregateCount: 64, maxLineLength: 64)

    /// The messages and the error, if any, decoding `reads` one after the other.
    static func decode(_ reads: [ArraySlice<UInt8>]) -> (messages: [RESPToken], error: RESPDecodingError?) {
        var decoder = RESPDecoder(limits: limits)
        var buffer = ByteBuffer()
        var messages: [RESPToken] = []
        do {
            for read in reads {
                buffer.writeBytes(read)
                while let token = try decoder.decode(&buffer) { messages.append(token) }
            }
        } catch {
            return (messages, error)
        }
        return (messages, nil)
    }

    static func run(_ bytes: [UInt8]) {
        let whole = decode([bytes[...]])
        for token in whole.messages { _ = token.value }
        // decodeAll frames the same messages in one pass.
        var decoder = RESPDecoder(limits: limits)
        var buffer = ByteBuffer(bytes: bytes)
        var all: [RESPToken] = []
        var allError: RESPDecodingError?
        do { try decoder.decodeAll(&buffer) { all.append($0) } } catch { allError = error as? RESPDecodingError }
        guard all == whole.messages, allError == whole.error else {
            fatalError("decodeAll disagrees with decode: \(all.count) vs \(whole.messages.count) messages, \(String(describing: allError)) vs \(String(describing: whole.error))")
        }
        for reads in FuzzInput.readings(of: bytes) {
            let pieces = decode(reads)
            guard pieces.messages == whole.messages, pieces.error == whole.error else {
                fatalError("\(reads.count) reads decode differently from one: \(pieces.messages.count) vs \(whole.messages.count) messages, \(String(describing: pieces.error)) vs \(String(describing: whole.error))")
            }
        }
    }
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRESP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    RESPCheck.run(FuzzInput.bytes(data, size))
    return 0
}

#if !FUZZING
/// Without libFuzzer: replays the files named on the command line.
@main enum FuzzRESPReplay {
    static func main() {
        exit(FuzzInput.replay(Array(CommandLine.arguments.dropFirst()), RESPCheck.run))
    }
}
#endif
