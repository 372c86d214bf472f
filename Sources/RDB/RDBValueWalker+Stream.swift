/// Streams (rdb.c, `RDB_TYPE_STREAM_LISTPACKS*`; t_stream.c for the listpack layout):
/// listpacks keyed by a master ID, then length, IDs, and consumer groups with their PELs
/// and consumers. Type 19 added first/max-deleted IDs, entries-added and group read
/// counters; type 21 consumers' active time.
extension RDBValueWalker {
    mutating func stream(_ type: RDBValueType) throws(RDBError) -> RDBValue? {
        var entries: [RDBStream.Entry] = []
        let nodes = try count("a stream listpack count", minimumBytes: 2)
        for _ in 0..<nodes {
            let keyAt = input.offset
            let (keyLength, encoded) = try lengthOrEncoding("a stream node key")
            guard !encoded, keyLength == 16 else {
                throw RDBError(.malformed, at: keyAt, "a stream node key must be a 16-byte ID")
            }
            let master = try rawStreamID("a stream node key")
            guard let node = try blob("a stream listpack") else { continue }
            entries += try Self.streamEntries(node, master: master)
        }
        let length = try length("the stream length")
        let lastID = try streamID("the stream's last ID")
        var firstID: RDBStreamID?, maxDeletedID: RDBStreamID?, entriesAdded: UInt64?
        if type != .streamListpacks {
            firstID = try streamID("the stream's first ID")
            maxDeletedID = try streamID("the stream's largest deleted ID")
            entriesAdded = try self.length("the stream's entries-added counter")
        }
        var groups: [RDBStream.Group] = []
        let groupCount = try count("a consumer group count", minimumBytes: 4)
        for _ in 0..<groupCount {
            let name = try string("a consumer group name")
            let lastDelivered = try streamID("a group's last delivered ID")
            let entriesRead = type == .streamListpacks ? nil : try self.length("a group's entries-read counter")
            var pending: [RDBStream.Pending] = []
            for _ in 0..<(try count("a group PEL size", minimumBytes: 25)) {
                let id = try rawStreamID("a pending entry ID")
                let time = try milliseconds("a delivery time")
                let deliveries = try self.length("a delivery count")
                if decode { pending.append(.init(id: id, deliveryTimeMs: time, deliveryCount: deliveries)) }
            }
            var consumers: [RDBStream.Consumer] = []
            for _ in 0..<(try count("a consumer count", minimumBytes: 10)) {
                let consumerName = try string("a consumer name")
                let seen = try milliseconds("a consumer's seen time")
                let active = type == .streamListpacks3 ? try milliseconds("a consumer's active time") : nil
                var owned: [RDBStreamID] = []
                for _ in 0..<(try count("a consumer PEL size", minimumBytes: 16)) {
                    let id = try rawStreamID("a consumer's pending entry ID")
                    if decode { owned.append(id) }
                }
                if let consumerName {
                    consumers.append(.init(name: consumerName, seenTimeMs: seen, activeTimeMs: active, pending: owned))
                }
            }
            if let name {
                groups.append(.init(name: name, lastDeliveredID: lastDelivered, entriesRead: entriesRead,
                                    pending: pending, consumers: consumers))
            }
        }
        guard decode else { return nil }
        return .stream(RDBStream(entries: entries, length: length, lastID: lastID, firstID: firstID,
                                 maxDeletedID: maxDeletedID, entriesAdded: entriesAdded, groups: groups))
    }

    /// The live entries of one stream listpack. Its master entry is: count, deleted count,
    /// field count, the master fields, 0. Each entry: flags, ms and seq deltas from the
    /// master ID, then either the values (flag 2: same fields as the master) or a field
    /// count and pairs, then its element count. Flag 1 marks a deleted entry.
    static func streamEntries(_ node: PackedBlob, master: RDBStreamID) throws(RDBError) -> [RDBStream.Entry] {
        let e = try Listpack.elements(node)
        var i = 0
        func int(_ what: String) throws(RDBError) -> Int64 {
            guard i < e.count, let v = e[i].integer else { throw node.error(0, "element \(i) should be \(what)") }
            i += 1
            return v
        }
        let live = try int("the entry count")
        let deleted = try int("the deleted count")
        let masterFieldCount = try int("the master field count")
        guard masterFieldCount >= 0, masterFieldCount <= e.count - i else { throw node.error(0, "bad master field count \(masterFieldCount)") }
        let masterFields = e[i..<i + Int(masterFieldCount)].map(\.text)
        i += Int(masterFieldCount)
        guard try int("the master terminator 0") == 0 else { throw node.error(0, "the master entry does not end with 0") }
        var entries: [RDBStream.Entry] = []
        while i < e.count {
            let flags = try int("entry flags")
            let id = RDBStreamID(ms: master.ms &+ UInt64(bitPattern: try int("an ID ms delta")),
                                 seq: master.seq &+ UInt64(bitPattern: try int("an ID seq delta")))
            var fields: [RDBHashField] = []
            if flags & 2 != 0 {
                guard masterFields.count <= e.count - i else { throw node.error(0, "an entry is cut short") }
                for f in masterFields { fields.append(RDBHashField(field: f, value: e[i].text)); i += 1 }
            } else {
                let n = try int("a field count")
                guard n >= 0, 2 * n <= e.count - i else { throw node.error(0, "bad field count \(n)") }
                for _ in 0..<n { fields.append(RDBHashField(field: e[i].text, value: e[i + 1].text)); i += 2 }
            }
            _ = try int("the entry's element count")
            if flags & 1 == 0 { entries.append(RDBStream.Entry(id: id, fields: fields)) }
        }
        guard live >= 0, deleted >= 0, entries.count == Int(live) else {
            throw node.error(0, "the master entry counts \(live) live entries, the listpack holds \(entries.count)")
        }
        return entries
    }
}
