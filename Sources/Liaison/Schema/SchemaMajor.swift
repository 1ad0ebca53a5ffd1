import Foundation

/// Major versions of a schema: changes within one are additive and sync; replicas on different
/// majors refuse to sync, saying what to do.
public enum SchemaMajor {
    /// The refusal a sync round ends with when `peer`'s schema is another one, or another major.
    public static func refusal(peer: String, theirs: (name: String, major: Int), ours: (name: String, major: Int))
        -> LiaisonError
    {
        if theirs.name != ours.name {
            return LiaisonError(
                .schemaMismatch,
                "peer \(peer) serves schema '\(theirs.name)', this replica holds '\(ours.name)': they never sync. "
                    + "Remove the peer ('liaison peer remove') or point it at a replica of '\(ours.name)'")
        }
        let newer = theirs.major > ours.major
        return LiaisonError(
            .schemaMismatch,
            "peer \(peer) is on major version \(theirs.major) of schema '\(theirs.name)', this replica on "
                + "\(ours.major): replicas on different major versions do not sync, nothing was exchanged. "
                + (newer
                    ? "To move to major \(theirs.major), make a new replica from a peer on it "
                        + "('liaison clone URL NEW.db --site CODE') and bring over what is not synced yet"
                    : "Peer \(peer) must move to major \(ours.major) (clone a replica from a peer on it); "
                        + "until then sync with peers on major \(ours.major)"))
    }
}
