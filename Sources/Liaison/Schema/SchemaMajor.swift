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

/// The `Liaison-Schema` HTTP header: `cooperation;major=2`, with `;hash=…` on answers.
public struct SchemaStamp: Sendable, Hashable {
    public static let header = "Liaison-Schema"
    public var name: String
    public var major: Int
    public var hash: String?

    public init(_ schema: SchemaDefinition, withHash: Bool = false) {
        name = schema.name
        major = schema.version
        hash = withHash ? schema.hash : nil
    }

    /// Parses a header value; `nil` when malformed.
    public init?(_ value: String) {
        let parts = value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = parts.first, !first.isEmpty, first.count <= 64 else { return nil }
        name = first
        var major: Int?
        for part in parts.dropFirst() {
            if part.hasPrefix("major=") { major = Int(part.dropFirst(6)) }
            if part.hasPrefix("hash=") { hash = String(part.dropFirst(5).prefix(64)) }
        }
        guard let major else { return nil }
        self.major = major
    }

    public var headerValue: String { "\(name);major=\(major)" + (hash.map { ";hash=\($0)" } ?? "") }

    /// Same schema, same major (the hash may differ while changes travel).
    public func isCompatible(with other: SchemaStamp) -> Bool { name == other.name && major == other.major }
}
