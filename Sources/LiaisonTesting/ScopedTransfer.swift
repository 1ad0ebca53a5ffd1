import Foundation
import Liaison

/// Copies what `source` has and `target` lacks as a peer granted `readable` at `source` pulls it,
/// applied at `target` under the write grant `writable` of `source` there; withheld changes the
/// target asks for again travel too. Returns how many transactions were applied. The test stands
/// for `target`'s operator and trusts the keys `source` trusts first.
@discardableResult
public func transfer(
    from source: Replica, to target: Replica, readable: Set<String>?, writable: Set<String>?,
    limits: PageLimits = PageLimits()
) throws -> Int {
    try trustKeys(of: source, at: target)
    var cursor = SyncCursor.start
    var moved = 0
    var wanted = try target.wantedTransactions()
    while true {
        let page = try source.changes(
            after: cursor, excluding: try target.versionVector(), limits: limits, readable: readable, wanted: wanted)
        wanted = []
        moved += try target.apply(page.transactions, keys: page.keys, writableScopes: writable).applied
        cursor = try SyncCursor(parsing: page.cursor)
        if !page.hasMore { return moved }
    }
}
