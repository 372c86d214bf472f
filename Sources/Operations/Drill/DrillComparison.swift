/// The comparison of the live data set at the mark with the restored one, key by key.
struct DrillComparison {
    var compared = 0
    var expiredSinceMark = 0
    var differences: [DrillDifference] = []

    /// Compares. A key whose expiry (at the mark) has passed by `now` (unix ms) and that
    /// the restore lacks is expired, not missing: the restore keeps the recorded absolute
    /// expiries, and Redis hides a key once its time is up. Expiries are read as remaining
    /// milliseconds on each side and so carry each read's latency: they count as equal
    /// within `toleranceMs`.
    init(live: [DrillKey: KeyFingerprint], restored: [DrillKey: KeyFingerprint], now: Int64, toleranceMs: Int64) {
        for (key, atMark) in live {
            guard let back = restored[key] else {
                if let expiry = atMark.expiresAtMs, expiry <= now + toleranceMs { expiredSinceMark += 1; continue }
                compared += 1
                differences.append(DrillDifference(key: key, reason: .missingOnRestore, detail: atMark.type))
                continue
            }
            compared += 1
            if atMark.type != back.type {
                differences.append(DrillDifference(key: key, reason: .differentType, detail: "\(atMark.type) at the mark, \(back.type) restored"))
            } else if atMark.digest != back.digest {
                differences.append(DrillDifference(key: key, reason: .differentValue, detail: atMark.type))
            } else if !Self.sameExpiry(atMark.expiresAtMs, back.expiresAtMs, toleranceMs) {
                differences.append(DrillDifference(key: key, reason: .differentExpiry,
                                                   detail: "\(Self.expiry(atMark.expiresAtMs)) at the mark, \(Self.expiry(back.expiresAtMs)) restored"))
            }
        }
        for (key, back) in restored where live[key] == nil {
            compared += 1
            differences.append(DrillDifference(key: key, reason: .extraOnRestore, detail: back.type))
        }
        differences.sort { $0.key < $1.key }
    }

    static func sameExpiry(_ a: Int64?, _ b: Int64?, _ toleranceMs: Int64) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let a?, let b?): abs(a - b) <= toleranceMs
        default: false
        }
    }

    static func expiry(_ ms: Int64?) -> String {
        ms.map { "expires " + TimeFormat.text(Double($0) / 1000) } ?? "no expiry"
    }
}
