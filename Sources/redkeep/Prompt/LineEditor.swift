// Placeholder until the readline line editor lands (same API); reads plain lines.
import Foundation
enum LineResult { case line(String), interrupted, endOfFile }
final class LineEditor {
    init(historyPath: String?, completer: @escaping (_ lineBuffer: String, _ word: String, _ wordStart: Int) -> [String]) {}
    func readLine(prompt: String) -> LineResult {
        FileHandle.standardOutput.write(Data(prompt.utf8))
        guard let l = Swift.readLine() else { return .endOfFile }
        return .line(l)
    }
    func remember(_ line: String) {}
    static func runBlocking<T: Sendable>(_ work: @escaping @Sendable () async -> T, onInterrupt: @escaping @Sendable () -> Void) -> T {
        blocking(work)
    }
}
