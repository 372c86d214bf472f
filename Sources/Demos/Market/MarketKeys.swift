/// The key layout of listings 4.5 and 4.6, exactly as the book has it.
public enum MarketKeys {
    /// The market ZSET: members `<item>.<seller>`, scored by price.
    public static let market = "market:"
    /// A user's HASH (name, funds).
    public static func user(_ id: String) -> String { "users:\(id)" }
    /// A user's inventory SET of item ids.
    public static func inventory(_ id: String) -> String { "inventory:\(id)" }
    /// The market member of an item listed by a seller.
    public static func listing(item: String, seller: String) -> String { "\(item).\(seller)" }

    /// The (item, seller) of a market member, split at its last dot (item ids may hold dots,
    /// user ids do not).
    public static func parseListing(_ member: String) -> (item: String, seller: String)? {
        guard let dot = member.lastIndex(of: ".") else { return nil }
        return (String(member[..<dot]), String(member[member.index(after: dot)...]))
    }

    /// Item ids in the book's style: ItemA ... ItemZ, ItemAA, ItemAB ...
    public static func itemName(_ index: Int) -> String {
        var n = index
        var letters = ""
        repeat {
            letters = String(UnicodeScalar(UInt8(65 + n % 26))) + letters
            n = n / 26 - 1
        } while n >= 0
        return "Item" + letters
    }
}
