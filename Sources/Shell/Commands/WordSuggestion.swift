/// The nearest redkeep word to a misspelt one (`replay-untill`: `replay-until`), for the
/// error a statement gets when its first word is neither a redkeep word nor a Redis command.
enum WordSuggestion {
    /// The closest of `candidates` (default: redkeep's words) when it is close enough to be
    /// a typo: none for words up to 3 letters (too many near misses), 1 edit up to 5
    /// letters, 2 up to 9, 3 beyond. Nil otherwise.
    static func nearest(to word: String, among candidates: [String]? = nil) -> String? {
        let typed = Array(word.lowercased().prefix(64))
        guard !typed.isEmpty else { return nil }
        guard typed.count > 3 else { return nil }
        let limit = typed.count <= 5 ? 1 : typed.count <= 9 ? 2 : 3
        let pool = candidates ?? CommandRegistry.entries.map(\.name).filter { !$0.hasPrefix("@") }
        var best: (word: String, distance: Int)?
        for candidate in pool {
            let d = distance(typed, Array(candidate.lowercased()))
            if d > 0, d <= limit, d < (best?.distance ?? .max) { best = (candidate, d) }
        }
        return best?.word
    }

    /// Edits (insert, delete, replace, swap of neighbours) from `a` to `b`: optimal string
    /// alignment distance, so `replay-untli` is one edit from `replay-until`.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], before[j - 2] + 1)
                }
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }
}
