import Foundation

/// What the fuzzing harnesses share (see docs/fuzzing.md).
///
/// Each harness is an executable with two faces. Built by scripts/fuzz (with
/// `--sanitize=fuzzer -Xswiftc -DFUZZING`), libFuzzer's own `main` drives its
/// `LLVMFuzzerTestOneInput`. In an ordinary build, where no libFuzzer is linked, its `main`
/// replays the files it is given through the same check instead, so the harnesses are
/// compiled (and kept working) by every `swift build`, and a saved crash can be replayed
/// under the debugger without the fuzzing runtime.
public enum FuzzInput {
    /// The bytes libFuzzer hands over (a nil pointer for an empty input).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// Other ways the same bytes may arrive from a socket or a file read in blocks: in two
    /// reads, cut where the first byte says (so that the fuzzer chooses), and, for inputs
    /// up to 512 bytes, one byte at a time. A resumable decoder must give the same result
    /// for each as for the whole.
    public static func readings(of bytes: [UInt8]) -> [[ArraySlice<UInt8>]] {
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        var readings = [[bytes[..<cut], bytes[cut...]]]
        if bytes.count <= 512 { readings.append(bytes.indices.map { bytes[$0...$0] }) }
        return readings
    }

    /// Runs `check` on every file named on the command line, and on every file inside a
    /// folder named there (a corpus); returns the exit code: 0 when every one was read, 1
    /// when a path could not be. A failed check traps, as it does under libFuzzer.
    public static func replay(_ arguments: [String], _ check: ([UInt8]) -> Void) -> Int32 {
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("usage: \(CommandLine.arguments[0]) FILE|FOLDER...\n".utf8))
            return 1
        }
        var count = 0
        for path in arguments {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                FileHandle.standardError.write(Data("\(path): no such file or folder\n".utf8))
                return 1
            }
            let files = isFolder.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    FileHandle.standardError.write(Data("\(file): cannot read it\n".utf8))
                    return 1
                }
                check(Array(data))
                count += 1
            }
        }
        print("replayed \(count) inputs")
        return 0
    }
}
