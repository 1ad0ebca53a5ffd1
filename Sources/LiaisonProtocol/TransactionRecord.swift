import Foundation

/// One row write inside a transaction: new values of some columns, or a deletion.
public struct ChangeRecord: Hashable, Sendable, Codable {
    /// What the change does to its row.
    public enum Operation: String, Hashable, Sendable, Codable {
        case insert, update, delete
    }

    public var table: String
    public var id: String
    public var op: Operation
    /// The new value of each written column; absent for a deletion.
    public var values: [String: CellValue]?
    /// For `owner-wins` tables: how many writes by the row's owner each written cell descends from.
    /// Ordering concurrent writes by this level first keeps owner-wins consistent with causality.
    public var levels: [String: Int64]?
    /// The sharing scope of the row when it was written (what a peer must be granted to receive it).
    public var scope: String?
    /// The change's position in its transaction, when some changes were withheld from this peer.
    public var index: Int?
    /// For an update: the version each written cell replaced at its writer, `SITE_ID:SEQ` by
    /// column. A write supersedes a version without conflict only if it descends from it through
    /// these bases, so a writer that received a change as a digest only can never claim it.
    public var bases: [String: String]?

    public init(
        table: String, id: String, op: Operation, values: [String: CellValue]?, levels: [String: Int64]? = nil,
        scope: String? = nil, index: Int? = nil, bases: [String: String]? = nil
    ) {
        self.table = table
        self.id = id
        self.op = op
        self.values = values
        self.levels = levels
        self.scope = scope
        self.index = index
        self.bases = bases
    }
}

/// The outline of a withheld change that moved a row out of the receiver's scopes: enough to
/// check it against the signed digest at `index` (with `body`, the digest of its values), not
/// enough to read the values.
public struct ChangeOutline: Hashable, Sendable, Codable {
    public var index: Int
    public var table: String
    public var id: String
    public var op: ChangeRecord.Operation
    public var scope: String
    /// SHA-256 of the change's canonical `{"bases":…,"levels":…,"values":…}` (absent parts left out).
    public var body: String

    public init(index: Int, table: String, id: String, op: ChangeRecord.Operation, scope: String, body: String) {
        self.index = index
        self.table = table
        self.id = id
        self.op = op
        self.scope = scope
        self.body = body
    }
}

/// A transaction as it travels: its origin, clock, author, causal context and changes.
///
/// A large transaction travels in pieces: each piece repeats the header and carries `changes`
/// starting at `offset` of `total`. A receiver applies the transaction only when it holds all of it.
public struct TransactionRecord: Hashable, Sendable, Codable {
    /// The origin's site id.
    public var origin: String
    /// The origin's site code.
    public var site: String
    /// The origin's sequence number, counting up from 1.
    public var seq: Int64
    public var hlc: HybridTimestamp
    public var author: String
    /// What the origin had applied when it committed (its own entry is `seq - 1`).
    public var context: VersionVector
    /// Conflict ids this transaction resolves.
    public var resolves: [String]?
    /// The number of changes of the whole transaction.
    public var total: Int
    /// The position of `changes.first` within the whole transaction.
    public var offset: Int
    public var changes: [ChangeRecord]
    /// The digest of the origin's previous transaction: each origin's log is a hash chain.
    public var previous: String?
    /// The digest of every change of the whole transaction, in order (hex SHA-256).
    public var digests: [String]?
    /// The origin's Ed25519 signature over the header and the root of the change digests (base64).
    public var signature: String?
    /// When changes were withheld: how many positions of the transaction this piece covers.
    public var span: Int?
    /// Changes that moved rows the receiver could read into scopes it may not: the receiver checks
    /// each against the signed digests and removes its copy (locally, without logging a deletion).
    public var evictions: [ChangeOutline]?
    /// When this record is unsigned and the signature that covers it is not in the same page or
    /// push: the headers of its origin's next transactions up to a signed one (`ChainHeader`).
    public var proof: [ChainHeader]?

    public init(
        origin: String, site: String, seq: Int64, hlc: HybridTimestamp, author: String, context: VersionVector,
        resolves: [String]? = nil, total: Int, offset: Int = 0, changes: [ChangeRecord], previous: String? = nil,
        digests: [String]? = nil, signature: String? = nil
    ) {
        self.previous = previous
        self.digests = digests
        self.signature = signature
        self.origin = origin
        self.site = site
        self.seq = seq
        self.hlc = hlc
        self.author = author
        self.context = context
        self.resolves = resolves
        self.total = total
        self.offset = offset
        self.changes = changes
    }

    /// The number of positions this piece covers (withheld changes included).
    public var covered: Int { span ?? changes.count }

    /// Whether this record holds the whole transaction (as far as the receiver may see it).
    public var isComplete: Bool { offset == 0 && covered == total }

    /// Whether this record holds the end of the transaction (overflow-safe for hostile numbers).
    public var isLastPiece: Bool {
        let (end, overflow) = offset.addingReportingOverflow(covered)
        return !overflow && end == total
    }

    /// Whether offset, span and total describe a possible piece.
    public var isWellFormed: Bool {
        offset >= 0 && covered >= 0 && total >= 0 && changes.count <= covered && offset <= total
            && covered <= total - offset
    }
}
