import Foundation

/// A position in a replica's apply order: the transaction at `order`, after its change `lastChange`
/// (`offset` changes of it already delivered). Written `order:lastChange:offset`.
public struct SyncCursor: Hashable, Sendable, CustomStringConvertible {
    public var order: Int64
    public var lastChange: Int64
    public var offset: Int

    public static let start = SyncCursor(order: 0, lastChange: 0, offset: 0)

    public init(order: Int64, lastChange: Int64, offset: Int) {
        self.order = order
        self.lastChange = lastChange
        self.offset = offset
    }

    /// Parses a cursor; `nil` and `"0"` mean the start.
    public init(parsing text: String?) throws {
        guard let text, text != "0", !text.isEmpty else {
            self = .start
            return
        }
        let parts = text.split(separator: ":").map { Int64($0) }
        guard parts.count == 3, let order = parts[0], let last = parts[1], let offset = parts[2], order >= 0, last >= 0,
            offset >= 0, offset <= Int64(Int32.max)
        else {
            throw LiaisonError(
                .malformedRequest,
                "invalid cursor '\(text.prefix(64))': expected ORDER:CHANGE:OFFSET as returned by pull")
        }
        self.init(order: order, lastChange: last, offset: Int(offset))
    }

    public var description: String { "\(order):\(lastChange):\(offset)" }
}
