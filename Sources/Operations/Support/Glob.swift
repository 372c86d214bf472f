/// Redis-style glob matching (what KEYS and SCAN MATCH do): `*` any run, `?` any one
/// byte, `[abc]` / `[a-z]` / `[^a]` a set, `\x` the character x itself.
public enum Glob {
    /// True when `text` matches `pattern` entirely.
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        matches(Array(pattern.utf8)[...], Array(text.utf8)[...])
    }

    private static func matches(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>) -> Bool {
        var p = p, s = s
        while let c = p.first {
            switch c {
            case UInt8(ascii: "*"):
                while p.first == UInt8(ascii: "*") { p = p.dropFirst() }
                if p.isEmpty { return true }
                var rest = s
                while true {
                    if matches(p, rest) { return true }
                    if rest.isEmpty { return false }
                    rest = rest.dropFirst()
                }
            case UInt8(ascii: "?"):
                guard !s.isEmpty else { return false }
                p = p.dropFirst()
                s = s.dropFirst()
            case UInt8(ascii: "["):
                guard let byte = s.first else { return false }
                p = p.dropFirst()
                let negate = p.first == UInt8(ascii: "^")
                if negate { p = p.dropFirst() }
                var matched = false
                while let d = p.first, d != UInt8(ascii: "]") {
                    if d == UInt8(ascii: "\\"), p.count > 1 {
                        p = p.dropFirst()
                        if p.first == byte { matched = true }
                        p = p.dropFirst()
                    } else if p.count > 2, p[p.startIndex + 1] == UInt8(ascii: "-"), p[p.startIndex + 2] != UInt8(ascii: "]") {
                        let lo = min(d, p[p.startIndex + 2]), hi = max(d, p[p.startIndex + 2])
                        if byte >= lo && byte <= hi { matched = true }
                        p = p.dropFirst(3)
                    } else {
                        if d == byte { matched = true }
                        p = p.dropFirst()
                    }
                }
                p = p.dropFirst()  // the ]
                if matched == negate { return false }
                s = s.dropFirst()
            case UInt8(ascii: "\\") where p.count > 1:
                p = p.dropFirst()
                guard s.first == p.first else { return false }
                p = p.dropFirst()
                s = s.dropFirst()
            default:
                guard s.first == c else { return false }
                p = p.dropFirst()
                s = s.dropFirst()
            }
        }
        return s.isEmpty
    }
}
