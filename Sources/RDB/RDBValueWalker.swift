/// Walks one value's serialization (redis/redis src/rdb.c `rdbLoadObject`). With `decode`
/// false it only finds where the value ends, checking every length against what is left
/// (the reader's pass: no decompression, no element arrays); with `decode` true it also
/// builds the ``RDBValue``, decoding LZF, listpacks, ziplists, intsets and zipmaps.
struct RDBValueWalker<Input: RDBInput> {
    var input: Input
    let limits: RDBReader.Limits
    let version: Int
    /// Build values (true) or only walk them (false); the reader switches it per string.
    var decode: Bool

    // MARK: Lengths and strings

    /// A length, or a special string encoding when `encoded` is true (rdbLoadLenByRef).
    @inline(__always)
    mutating func lengthOrEncoding(_ what: StaticString) throws(RDBError) -> (value: UInt64, encoded: Bool) {
        let first = try input.byte(what)
        switch first >> 6 {
        case 0: return (UInt64(first & 0x3F), false)
        case 1: return (UInt64(first & 0x3F) << 8 | UInt64(try input.byte(what)), false)
        case 3: return (UInt64(first & 0x3F), true)
        default:
            if first == 0x80 { return (try input.bigEndian(4, what), false) }
            if first == 0x81 { return (try input.bigEndian(8, what), false) }
            throw RDBError(.malformed, at: input.offset - 1, "unknown length encoding 0x\(String(first, radix: 16)) for \(what)")
        }
    }

    /// A plain length (a special encoding here is damage).
    @inline(__always)
    mutating func length(_ what: StaticString) throws(RDBError) -> UInt64 {
        let at = input.offset
        let (value, encoded) = try lengthOrEncoding(what)
        guard !encoded else { throw RDBError(.malformed, at: at, "expected a length for \(what), found a string encoding") }
        return value
    }

    /// A count of things that each take at least `minimumBytes`: bounded by what is left,
    /// so a hostile count can neither loop for long nor reserve memory.
    @inline(__always)
    mutating func count(_ what: StaticString, minimumBytes: Int = 1) throws(RDBError) -> Int {
        let at = input.offset
        let n = try length(what)
        guard n <= UInt64(input.remaining / minimumBytes) else {
            throw RDBError(.malformed, at: at, "\(what) is \(n), but only \(input.remaining) bytes are left")
        }
        return Int(n)
    }

    /// A string (rdbGenericLoadStringObject): raw, int-encoded (8/16/32 bits) or LZF.
    /// Returns the bytes when decoding, else nil.
    @inline(__always)
    mutating func string(_ what: StaticString) throws(RDBError) -> [UInt8]? {
        let at = input.offset
        let (value, encoded) = try lengthOrEncoding(what)
        if !encoded {
            guard value <= UInt64(limits.maximumValueBytes) else {
                throw RDBError(.tooLarge, at: at, "\(what) of \(value) bytes is over the maximum of \(limits.maximumValueBytes)")
            }
            let bytes = try input.take(Int(value), what)
            return decode ? Array(bytes) : nil
        }
        switch value {
        case 0: let v = signExtend(try input.littleEndian(1, what), bits: 8); return decode ? Array(String(v).utf8) : nil
        case 1: let v = signExtend(try input.littleEndian(2, what), bits: 16); return decode ? Array(String(v).utf8) : nil
        case 2: let v = signExtend(try input.littleEndian(4, what), bits: 32); return decode ? Array(String(v).utf8) : nil
        case 3:
            let compressed = try length(what)
            let expanded = try length(what)
            guard expanded <= UInt64(limits.maximumValueBytes) else {
                throw RDBError(.tooLarge, at: at, "\(what) expands to \(expanded) bytes, over the maximum of \(limits.maximumValueBytes)")
            }
            guard compressed <= UInt64(input.remaining) else { throw input.truncated(Int(clamping: compressed), what) }
            // LZF expands at most 264 bytes from 3 (a long match): a larger stated length
            // is damage, and must not be allocated.
            guard expanded <= compressed &* 88 &+ 64 else {
                throw RDBError(.malformed, at: at, "\(what) claims \(compressed) LZF bytes expand to \(expanded), more than LZF can")
            }
            let bytes = try input.take(Int(compressed), what)
            return decode ? try LZF.decompress(bytes, length: Int(expanded), offset: at) : nil
        default:
            throw RDBError(.malformed, at: at, "unknown string encoding \(value) for \(what)")
        }
    }

    /// A string that holds a packed structure, with its offset for errors.
    mutating func blob(_ name: StaticString) throws(RDBError) -> PackedBlob? {
        let at = input.offset
        guard let bytes = try string(name) else { return nil }
        return PackedBlob(bytes: bytes, offset: at, name: name)
    }

    /// A score of type 3: its text after a length byte; 253, 254, 255 are NaN, +inf, -inf.
    mutating func textDouble() throws(RDBError) -> Double {
        let at = input.offset
        let n = try input.byte("a score length")
        switch n {
        case 253: return .nan
        case 254: return .infinity
        case 255: return -.infinity
        default:
            let text = try input.take(Int(n), "a score")
            guard decode else { return 0 }
            guard let d = Double(String(decoding: text, as: UTF8.self)) else {
                throw RDBError(.malformed, at: at, "score \(RDBText.quoted(Array(text))) is not a number")
            }
            return d
        }
    }

    /// An 8-byte little-endian double.
    mutating func binaryDouble() throws(RDBError) -> Double {
        Double(bitPattern: try input.littleEndian(8, "a binary score"))
    }

    /// An 8-byte little-endian Unix time in ms.
    mutating func milliseconds(_ what: StaticString) throws(RDBError) -> UInt64 {
        try input.littleEndian(8, what)
    }

    /// A stream ID of two lengths, ms then seq.
    mutating func streamID(_ what: StaticString) throws(RDBError) -> RDBStreamID {
        RDBStreamID(ms: try length(what), seq: try length(what))
    }

    /// A stream ID stored raw: 16 bytes, big-endian ms then seq.
    mutating func rawStreamID(_ what: StaticString) throws(RDBError) -> RDBStreamID {
        RDBStreamID(ms: try input.bigEndian(8, what), seq: try input.bigEndian(8, what))
    }

    // MARK: Values

    /// Walks a value of `type`; returns it when decoding, else nil.
    mutating func value(_ type: RDBValueType) throws(RDBError) -> RDBValue? {
        let at = input.offset
        switch type {
        case .string:
            return try string("a string value").map { .string($0) }
        case .list, .set:
            let n = try count("an element count")
            var elements: [[UInt8]] = []
            if decode { elements.reserveCapacity(n) }
            for _ in 0..<n {
                let e = try string("an element")
                if let e { elements.append(e) }
            }
            return decode ? (type == .list ? .list(elements) : .set(elements)) : nil
        case .zset, .zset2:
            let n = try count("a member count")
            var members: [RDBScoredMember] = []
            for _ in 0..<n {
                let member = try string("a member")
                let score = type == .zset ? try textDouble() : try binaryDouble()
                if let member { members.append(RDBScoredMember(member: member, score: score)) }
            }
            return decode ? .sortedSet(members) : nil
        case .hash:
            let n = try count("a field count", minimumBytes: 2)
            var fields: [RDBHashField] = []
            for _ in 0..<n {
                let field = try string("a hash field")
                let value = try string("a hash value")
                if let field, let value { fields.append(RDBHashField(field: field, value: value)) }
            }
            return decode ? .hash(fields) : nil
        case .hashMetadataPreGA, .hashMetadata:
            let minimum = type == .hashMetadata ? try milliseconds("the hash's minimum field expiry") : 0
            let n = try count("a field count", minimumBytes: 3)
            var fields: [RDBHashField] = []
            for _ in 0..<n {
                let ttl = try length("a field TTL")
                let field = try string("a hash field")
                let value = try string("a hash value")
                guard let field, let value else { continue }
                // 0: no TTL; otherwise relative to the minimum plus 1 (type 24), or absolute (22).
                let expiry: UInt64? = ttl == 0 ? nil : (type == .hashMetadata ? ttl &+ minimum &- 1 : ttl)
                fields.append(RDBHashField(field: field, value: value, expiresAtMs: expiry))
            }
            return decode ? .hash(fields) : nil
        case .hashZipmap, .listZiplist, .setIntset, .zsetZiplist, .hashZiplist, .hashListpack, .zsetListpack,
             .setListpack, .hashListpackExPreGA, .hashListpackEx:
            if type == .hashListpackEx { _ = try milliseconds("the hash's minimum field expiry") }
            guard let blob = try blob(Self.blobName(type)) else { return nil }
            return try Self.decodeBlob(type, blob)
        case .listQuicklist, .listQuicklist2:
            let n = try count("a quicklist node count")
            var elements: [[UInt8]] = []
            for _ in 0..<n {
                var packed = true
                if type == .listQuicklist2 {
                    let containerAt = input.offset
                    let container = try length("a quicklist container")
                    guard container == 1 || container == 2 else {
                        throw RDBError(.malformed, at: containerAt, "quicklist container \(container), expected 1 (plain) or 2 (packed)")
                    }
                    packed = container == 2
                }
                guard let node = try blob(type == .listQuicklist ? "a quicklist ziplist" : "a quicklist listpack") else { continue }
                if !packed {
                    elements.append(node.bytes)
                } else {
                    let decoded = type == .listQuicklist ? try Ziplist.elements(node) : try Listpack.elements(node)
                    elements += decoded.map(\.text)
                }
            }
            return decode ? .list(elements) : nil
        case .streamListpacks, .streamListpacks2, .streamListpacks3:
            return try stream(type)
        case .module2:
            let id = try length("a module type ID")
            try skipModuleOpcodes()
            return decode ? .module(RDBModuleValue(moduleID: id)) : nil
        case .modulePreGA:
            throw RDBError(.unsupportedType, at: at - 1, "module value of the Redis 4.0 release candidates (type 6): Redis itself no longer reads it")
        case .valkeyHash2:
            return try valkeyHash2()
        }
    }

    /// Walks a module's value or aux data: opcodes (lengths) with their operands, up to
    /// the EOF opcode 0 (rdbLoadCheckModuleValue). Works without the module.
    mutating func skipModuleOpcodes() throws(RDBError) {
        while true {
            let at = input.offset
            switch try length("a module opcode") {
            case 0: return
            case 1, 2: _ = try length("a module integer")
            case 3: _ = try input.take(4, "a module float")
            case 4: _ = try input.take(8, "a module double")
            case 5: _ = try string("a module string")
            case let other:
                throw RDBError(.malformed, at: at, "unknown module opcode \(other), expected 0 to 5")
            }
        }
    }

    static func blobName(_ type: RDBValueType) -> StaticString {
        switch type {
        case .hashZipmap: "a zipmap"
        case .listZiplist, .zsetZiplist, .hashZiplist: "a ziplist"
        case .setIntset: "an intset"
        default: "a listpack"
        }
    }

    /// Decodes the packed structure of a blob type into its value.
    static func decodeBlob(_ type: RDBValueType, _ blob: PackedBlob) throws(RDBError) -> RDBValue {
        switch type {
        case .listZiplist: return .list(try Ziplist.elements(blob).map(\.text))
        case .setIntset: return .set(try Intset.elements(blob).map(\.text))
        case .setListpack: return .set(try Listpack.elements(blob).map(\.text))
        case .zsetZiplist, .zsetListpack:
            let e = type == .zsetZiplist ? try Ziplist.elements(blob) : try Listpack.elements(blob)
            guard e.count % 2 == 0 else { throw blob.error(0, "\(e.count) elements, expected member/score pairs") }
            var members: [RDBScoredMember] = []
            for k in stride(from: 0, to: e.count, by: 2) {
                let scoreText = e[k + 1].text
                guard let score = Double(String(decoding: scoreText, as: UTF8.self)) else {
                    throw blob.error(0, "score \(RDBText.quoted(scoreText)) is not a number")
                }
                members.append(RDBScoredMember(member: e[k].text, score: score))
            }
            return .sortedSet(members)
        default:
            let e: [PackedElement]
            switch type {
            case .hashZipmap: e = try Zipmap.elements(blob)
            case .hashZiplist: e = try Ziplist.elements(blob)
            default: e = try Listpack.elements(blob)
            }
            let width = type == .hashListpackEx || type == .hashListpackExPreGA ? 3 : 2
            guard e.count % width == 0 else { throw blob.error(0, "\(e.count) elements, expected groups of \(width)") }
            var fields: [RDBHashField] = []
            for k in stride(from: 0, to: e.count, by: width) {
                var expiry: UInt64? = nil
                if width == 3, let ttl = e[k + 2].integer, ttl != 0 { expiry = UInt64(bitPattern: ttl) }
                fields.append(RDBHashField(field: e[k].text, value: e[k + 1].text, expiresAtMs: expiry))
            }
            return .hash(fields)
        }
    }
}
