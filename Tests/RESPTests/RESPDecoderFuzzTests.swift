import NIOCore
import Testing

@testable import RESP

/// Seeded fuzzing of the decoder (random bytes, RESP-shaped noise, mutated valid messages,
/// huge length headers) and a property test of encode -> split -> decode.
///
/// Everything is driven by SplitMix64 from fixed seeds, so a failure names its seed and case
/// number and replays exactly. Set RESP_FUZZ_SEED to try other seeds locally.
@Suite struct RESPDecoderFuzzTests {
    static let baseSeed: UInt64 = {
        if let text = ProcessInfoEnvironment.value("RESP_FUZZ_SEED"), let seed = UInt64(text) { return seed }
        return 0x5EED_0000_2026
    }()

    // MARK: The oracle

    /// Checks one input; returns how decoding it at once went, and whether all was well
    /// (problems are recorded as issues).
    static func check(_ input: [UInt8], rng: inout SplitMix64, label: String) -> (DecodeRun, Bool) {
        let whole = decodeAll(buffer(input))
        var ok = true
        func fail(_ message: String) {
            Issue.record("\(label): \(message)\n  input (\(input.count) bytes): \(escaped(input))")
            ok = false
        }

        // The tokens tile a prefix of the input.
        var offset = 0
        for token in whole.tokens {
            let bytes = bytesOf(token.bytes)
            guard bytes.count >= 3, offset + bytes.count <= input.count,
                  Array(input[offset..<offset + bytes.count]) == bytes else {
                fail("token \(escaped(bytes)) is not the next \(bytes.count) input bytes at \(offset)")
                return (whole, false)
            }
            offset += bytes.count
        }
        if whole.consumedBytes != offset { fail("consumedBytes \(whole.consumedBytes), tokens hold \(offset)") }
        if whole.leftover != input.count - offset { fail("\(whole.leftover) bytes left, expected \(input.count - offset)") }
        if let error = whole.error, !(offset..<input.count).contains(error.offset) {
            fail("error offset \(error.offset) outside the unconsumed bytes \(offset)..<\(input.count): \(error)")
        }
        if let error = whole.error, error.reason.isEmpty { fail("empty reason") }

        // Each token materializes, validates on its own, and re-encodes to an equal value.
        for token in whole.tokens {
            let value = token.value
            do {
                let again = try RESPToken(validating: token.bytes)
                if again != token { fail("RESPToken(validating:) differs") }
            } catch {
                fail("RESPToken(validating:) rejects a token the decoder returned: \(error)")
            }
            let encoded = encode(value)
            let back = decodeAll(encoded)
            guard back.error == nil, back.tokens.count == 1, back.leftover == 0 else {
                fail("re-encoded value does not decode as one message: \(escaped(encoded)), \(String(describing: back.error))")
                continue
            }
            let backValue = back.tokens[0].value
            if !equivalent(value, backValue) {
                // Verbatim formats are kept as String, so format bytes that are not valid
                // UTF-8 come back repaired; the repaired value must then be stable.
                if hasNonASCIIVerbatimFormat(value) {
                    let twice = decodeAll(encode(backValue)).tokens.first?.value
                    if twice.map({ equivalent($0, backValue) }) != true { fail("verbatim value is not stable after one round trip") }
                } else {
                    fail("round trip changed the value: \(escaped(encoded)) came back as \(describe(backValue))")
                }
            }
        }

        // Fed in random pieces, the decoder gives the same tokens and the same error.
        var cuts: [Int] = []
        if input.count > 1 {
            if input.count <= 300 && rng.oneIn(8) {
                cuts = Array(1..<input.count)  // byte by byte
            } else {
                cuts = (0..<(1 + rng.below(4))).map { _ in 1 + rng.below(input.count - 1) }.sorted()
            }
        }
        let pieces = decodeInPieces(buffer(input), cuts: cuts)
        if pieces.tokens != whole.tokens {
            fail("in pieces \(cuts): \(pieces.tokens.count) tokens, at once \(whole.tokens.count)")
        }
        if pieces.error != whole.error {
            fail("in pieces \(cuts): error \(String(describing: pieces.error)), at once \(String(describing: whole.error))")
        }
        // The batch API agrees with decode(), at once and in the same pieces.
        for (label, batch) in [("decodeAll at once", batchDecode(buffer(input))), ("decodeAll in pieces \(cuts)", batchDecode(buffer(input), cuts: cuts))] {
            if batch.tokens != whole.tokens { fail("\(label): \(batch.tokens.count) tokens, decode() \(whole.tokens.count)") }
            if batch.error != whole.error {
                fail("\(label): error \(String(describing: batch.error)), decode() \(String(describing: whole.error))")
            }
            if batch.consumedBytes != whole.consumedBytes {
                fail("\(label): consumed \(batch.consumedBytes), decode() \(whole.consumedBytes)")
            }
        }
        // Fed at once, the same bytes are left over (in pieces, fewer may have arrived
        // before an error stopped the feeding).
        let atOnce = batchDecode(buffer(input))
        if atOnce.leftover != whole.leftover { fail("decodeAll left \(atOnce.leftover) bytes, decode() \(whole.leftover)") }
        return (whole, ok)
    }

    static func hasNonASCIIVerbatimFormat(_ value: RESPValue) -> Bool {
        switch value {
        case .verbatimString(let format, _): return !format.utf8.allSatisfy { $0 < 0x80 }
        case .array(let a), .set(let a), .push(let a): return a.contains(where: hasNonASCIIVerbatimFormat)
        case .map(let pairs): return pairs.contains { hasNonASCIIVerbatimFormat($0.key) || hasNonASCIIVerbatimFormat($0.value) }
        case .attributed(let pairs, let v):
            return hasNonASCIIVerbatimFormat(v) || pairs.contains { hasNonASCIIVerbatimFormat($0.key) || hasNonASCIIVerbatimFormat($0.value) }
        default: return false
        }
    }

    /// Runs `count` cases from `seed`, stopping after a few failures.
    static func run(_ name: String, seed: UInt64, count: Int, _ makeInput: (inout SplitMix64) -> [UInt8]) -> Stats {
        var stats = Stats()
        var failures = 0
        for i in 0..<count {
            // One generator per case, so any case replays alone from (seed, i).
            var rng = SplitMix64(seed: seed &+ UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
            let input = makeInput(&rng)
            stats.bytes += input.count
            let (run, ok) = check(input, rng: &rng, label: "\(name) seed \(seed) case \(i)")
            if !ok {
                failures += 1
                if failures >= 5 { break }
            }
            stats.tokens += run.tokens.count
            if run.error != nil { stats.errors += 1 } else if run.leftover > 0 { stats.incomplete += 1 }
        }
        return stats
    }

    struct Stats {
        var bytes = 0, tokens = 0, errors = 0, incomplete = 0
    }

    // MARK: Input makers

    static let fragments: [String] = [
        "+", "-", ":", "$", "*", "_", "#", ",", "(", "!", "=", "%", "~", ">", "|", "?",
        "\r\n", "\r\n", "\r\n", "\r", "\n", "0", "1", "2", "3", "-1", "-2", "10", "99", "t", "f", "x",
        "OK", "ERR", "inf", "-inf", "nan", "3.14", "1e5", ".", "e", "txt:", "mkd:", "\0", " ",
        "*1\r\n", "*2\r\n", "$3\r\n", "$0\r\n", "$-1\r\n", "%1\r\n", "|1\r\n", "~2\r\n", ">1\r\n",
        ":1\r\n", "+OK\r\n", "_\r\n", "#t\r\n", ",1.5\r\n", "(123\r\n", "=5\r\ntxt:a\r\n", "!1\r\ne\r\n",
    ]

    static func pureRandom(_ rng: inout SplitMix64) -> [UInt8] {
        var bytes = rng.bytes(rng.below(48))
        // A valid type byte first now and then, so the decoder gets past byte 0.
        if !bytes.isEmpty && rng.oneIn(2) { bytes[0] = Array("+-:$*_#,(!=%~>|".utf8)[rng.below(15)] }
        return bytes
    }

    static func respShaped(_ rng: inout SplitMix64) -> [UInt8] {
        var s = ""
        for _ in 0..<(1 + rng.below(16)) { s += rng.pick(fragments) }
        return Array(s.utf8)
    }

    static func mutate(_ original: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = original
        let alphabet = Array("+-:$*_#,(!=%~>|?\r\n0123456789tfx.e".utf8)
        for _ in 0..<(1 + rng.below(3)) {
            let at = bytes.isEmpty ? 0 : rng.below(bytes.count)
            switch rng.below(8) {
            case 0 where !bytes.isEmpty: bytes[at] ^= UInt8(1) << UInt8(rng.below(8))  // flip a bit
            case 1 where !bytes.isEmpty: bytes[at] = rng.pick(alphabet)  // replace
            case 2: bytes.insert(rng.oneIn(2) ? rng.byte() : rng.pick(alphabet), at: at)  // insert
            case 3 where !bytes.isEmpty: bytes.remove(at: at)  // delete
            case 4 where !bytes.isEmpty: bytes.removeLast(rng.below(min(bytes.count, 8)) + 1)  // truncate
            case 5 where bytes.count > 2:  // duplicate a chunk
                let start = rng.below(bytes.count - 1)
                let end = start + 1 + rng.below(min(bytes.count - start - 1, 16) + 1) - 1
                bytes.insert(contentsOf: bytes[start...end], at: rng.below(bytes.count))
            case 6: bytes.insert(contentsOf: Array(rng.pick(fragments).utf8), at: at)
            default:
                // change a digit in a length header, often to something huge
                if let digit = bytes.indices.filter({ bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }).randomElement(using: &rng) {
                    bytes.replaceSubrange(digit...digit, with: Array(rng.pick(["0", "9", "99999999999", "2147483647", "-"]).utf8))
                }
            }
        }
        return bytes
    }

    /// Encoded random valid values to mutate, made once (generating values is the slow part).
    static let validPool: [[UInt8]] = {
        var gen = ValueGenerator(seed: baseSeed &+ 100)
        gen.maxDepth = 3
        gen.maxWidth = 4
        return (0..<3_000).map { _ in bytesOf(encode(gen.value())) }
    }()

    static func mutatedValid(_ rng: inout SplitMix64) -> [UInt8] {
        var stream: [UInt8] = []
        for _ in 0..<(1 + rng.below(3)) { stream += rng.pick(validPool) }
        if stream.count > 600 { stream.removeLast(stream.count - 600) }
        return mutate(stream, &rng)
    }

    static func hugeHeaders(_ rng: inout SplitMix64) -> [UInt8] {
        let markers = ["$", "!", "=", "*", "%", "~", ">", "|"]
        let counts = ["999999999999", "2147483647", "2147483648", "536870912", "536870913", "1073741824",
                      "9223372036854775807", "-9223372036854775808", "4611686018427387904", "-1", "-2", "0", "3"]
        var gen = ValueGenerator(seed: rng.next())
        gen.maxDepth = 2
        var s = Array((rng.pick(markers) + rng.pick(counts) + "\r\n").utf8)
        if rng.oneIn(3) { s = Array("*2\r\n:1\r\n".utf8) + s }
        for _ in 0..<rng.below(5) { s += bytesOf(encode(gen.value())) }
        if rng.oneIn(4) { s = mutate(s, &rng) }
        return s
    }

    // MARK: Tests (100,000+ cases in all)

    @Test(.timeLimit(.minutes(1))) func fuzzPureRandomBytes() {
        let stats = Self.run("random", seed: Self.baseSeed &+ 1, count: 25_000, Self.pureRandom)
        #expect(stats.errors > 10_000)  // most random bytes are not RESP
    }

    @Test(.timeLimit(.minutes(1))) func fuzzRESPShapedNoise() {
        let stats = Self.run("shaped", seed: Self.baseSeed &+ 2, count: 25_000, Self.respShaped)
        #expect(stats.tokens > 5_000)  // and some of it is
        #expect(stats.errors > 5_000)
    }

    @Test(.timeLimit(.minutes(1))) func fuzzMutatedValidMessages() {
        let stats = Self.run("mutated", seed: Self.baseSeed &+ 3, count: 40_000, Self.mutatedValid)
        #expect(stats.tokens > 10_000)
        #expect(stats.errors > 10_000)
        #expect(stats.incomplete > 1_000)
    }

    @Test(.timeLimit(.minutes(1))) func fuzzHugeLengthHeaders() {
        let stats = Self.run("huge", seed: Self.baseSeed &+ 4, count: 10_000, Self.hugeHeaders)
        #expect(stats.incomplete > 1_000)
        #expect(stats.errors > 1_000)
    }

    @Test func fuzzCasesReplay() {
        // The same seed gives the same inputs, so a reported case can be replayed.
        var a = SplitMix64(seed: 123), b = SplitMix64(seed: 123)
        #expect(Self.mutatedValid(&a) == Self.mutatedValid(&b))
        var c = SplitMix64(seed: 0)
        #expect(c.next() == 0xE220_A839_7B1D_CDAF)  // SplitMix64's published first output for seed 0
    }

    // MARK: Property: valid values survive encode -> split -> decode

    @Test(.timeLimit(.minutes(1))) func randomValuesSurviveSplitting() {
        let seed = Self.baseSeed &+ 5
        var rng = SplitMix64(seed: seed)
        var failures = 0
        for i in 0..<3_000 {
            var gen = ValueGenerator(seed: rng.next())
            let value = gen.value()
            let encoded = encode(value)
            let n = encoded.readableBytes
            let cuts = n > 1 ? (0..<rng.below(6)).map { _ in 1 + rng.below(n - 1) }.sorted() : []
            let run = decodeInPieces(encoded, cuts: cuts)
            let ok = run.error == nil && run.leftover == 0 && run.tokens.count == 1
                && run.tokens[0].bytes == encoded && equivalent(run.tokens[0].value, value)
            if !ok {
                Issue.record("seed \(seed) case \(i), cuts \(cuts): \(describe(value)) gave \(run.tokens.map { describe($0.value) }) \(String(describing: run.error))")
                failures += 1
                if failures >= 5 { break }
            }
        }
    }

    @Test(.timeLimit(.minutes(1))) func randomValueStreamsSurviveSplitting() {
        let seed = Self.baseSeed &+ 6
        var rng = SplitMix64(seed: seed)
        for round in 0..<20 {
            var gen = ValueGenerator(seed: rng.next())
            let values = (0..<200).map { _ in gen.value() }
            var stream = ByteBuffer()
            for v in values { stream.writeRESPValue(v) }
            let n = stream.readableBytes
            var cuts: [Int] = []
            var at = 0
            while true {
                at += 1 + rng.below(round % 2 == 0 ? 16 : 2000)
                if at >= n { break }
                cuts.append(at)
            }
            let run = decodeInPieces(stream, cuts: cuts)
            #expect(run.error == nil, "seed \(seed) round \(round)")
            #expect(run.leftover == 0)
            #expect(run.consumedBytes == n)
            #expect(run.tokens.count == values.count)
            let mismatch = Array(zip(run.tokens, values)).firstIndex { !equivalent($0.value, $1) }
            #expect(mismatch == nil, "seed \(seed) round \(round): value \(String(describing: mismatch))")
        }
    }
}

/// Reads an environment variable without Foundation.
enum ProcessInfoEnvironment {
    static func value(_ name: String) -> String? {
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
