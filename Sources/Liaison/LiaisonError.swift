/// An error from the sync engine. Match on `code`; the message is for people.
public struct LiaisonError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Open for new codes, like swift-nio's `FileSystemError.Code`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The table is not a synced table of this replica.
        public static let unknownTable = Code("unknown_table")
        /// The table has no such column.
        public static let unknownColumn = Code("unknown_column")
        /// A value does not fit the column's type.
        public static let typeMismatch = Code("type_mismatch")
        /// No row with this id.
        public static let notFound = Code("not_found")
        /// The input is malformed (an id, a site code, an argument).
        public static let invalidInput = Code("invalid_input")
        /// The file is not a Liaison replica.
        public static let notAReplica = Code("not_a_replica")
        /// The replica was written by another schema or format version.
        public static let schemaMismatch = Code("schema_mismatch")
        /// The database is locked by another process.
        public static let busy = Code("database_locked")
        /// SQLite could not read or write the file.
        public static let storage = Code("storage")
        /// A remote timestamp is too far ahead of this machine's clock.
        public static let clockDrift = Code("clock_drift")
        /// A remote transaction cannot be applied yet or at all.
        public static let invalidTransaction = Code("invalid_transaction")
        /// A request is malformed.
        public static let malformedRequest = Code("malformed_request")
        /// A credential is missing or wrong.
        public static let unauthorized = Code("unauthorized")
        /// The peer may not read or write this scope.
        public static let forbiddenScope = Code("forbidden_scope")
        /// A peer could not be reached or answered with an error.
        public static let peer = Code("peer_error")
        /// A conflict id is unknown or already resolved.
        public static let conflict = Code("conflict")
        /// A transaction's origin has no key trusted here yet (`liaison trust`); nothing of it was applied.
        public static let untrustedKey = Code("untrusted_key")
        /// A site id or key claims a site code bound to another site id or key here (impersonation).
        public static let identityConflict = Code("identity_conflict")
        /// Two different signed transactions under one `(origin, seq)`: the origin forked its log.
        public static let equivocation = Code("equivocation")
        /// A row edited by another SQLite client breaks the schema's rules, so it is not published.
        public static let invalidEdit = Code("invalid_edit")
        /// A sender has as much held in quarantine as it may; the batch was refused whole.
        public static let quarantineFull = Code("quarantine_full")
        /// The requester lacks history this replica compacted away: it clones from a snapshot.
        public static let compactedHistory = Code("compacted_history")
        /// A transaction written without having seen a compacted prefix; held for an operator.
        public static let behindCheckpoint = Code("behind_checkpoint")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { "\(code): \(message)" }

    /// With `.equivocation`: the header digest applied here and the digest of the other version.
    public var digests: [String]? { (cause as? TrustNotice)?.digests }

    /// Whether the error was caused by the caller's input rather than by the system.
    public var isUsageError: Bool {
        switch code {
        case .unknownTable, .unknownColumn, .typeMismatch, .notFound, .invalidInput, .notAReplica,
            .schemaMismatch, .malformedRequest, .conflict:
            return true
        default:
            return false
        }
    }
}
