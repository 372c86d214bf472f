extension RestorePlan {
    /// The moment (unix seconds) the restore stands for, for TTLs as of the target: the
    /// end of an inclusive time target's second (the start of an exclusive one's: the
    /// cut before which every applied write was made), a mark's time, and otherwise (everything archived, before a
    /// command, an offset) the archive's last covered second.
    public var targetSecond: Double {
        switch target {
        case .time(let second, let inclusive): return Double(inclusive ? second + 1 : second)
        case .mark(let name): return index.marks.last { $0.name == name }?.at ?? coverage.upperBound
        case .latest, .beforeFirst, .offset: return coverage.upperBound
        }
    }
}
