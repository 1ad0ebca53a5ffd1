import Foundation

/// A transaction's claim to close a conflict that this replica did not honour, and why.
public struct IgnoredResolution: Sendable, Hashable, Codable {
    /// The conflict the claim named.
    public var conflict: String
    /// The claiming transaction's origin site code and sequence number.
    public var site: String
    public var seq: Int64
    /// Why the claim was ignored.
    public var reason: String
}

extension Replica {
    /// Claims to close conflicts that this replica ignored: the resolving transaction had not seen
    /// both sides, or came from a sender that may not write the row's scope here.
    public func ignoredResolutions() throws -> [IgnoredResolution] {
        try withConnection { db in
            try db.execute(TransactionApplier.ignoredResolutionSQL)
            let sites = try SiteDirectory(db: db)
            return try db.query(
                "SELECT conflict, sidx, seq, reason FROM _liaison_ignored_resolution ORDER BY sidx, seq, conflict"
            ) {
                IgnoredResolution(
                    conflict: $0.text(0), site: sites.site($0.int64(1)).code, seq: $0.int64(2), reason: $0.text(3))
            }
        }
    }
}
