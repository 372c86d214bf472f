import Foundation
import FuzzSupport
import RDB

/// The RDB reader (its own fuzz entry, ``RDBReader/fuzz(_:)``): any bytes must read as an
/// RDB or end in an RDBError, never crash, hang or allocate by a declared length.
enum RDBInput {
    static func run(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { RDBReader.fuzz($0) }
    }
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRDB(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    RDBInput.run(FuzzInput.bytes(data, size))
    return 0
}

#if !FUZZING
/// Without libFuzzer: replays the files named on the command line.
@main enum FuzzRDBReplay {
    static func main() {
        exit(FuzzInput.replay(Array(CommandLine.arguments.dropFirst()), RDBInput.run))
    }
}
#endif
