import Crypto
import Foundation

/// Admission: whether a transaction may be applied now, and whether its origin signed exactly
/// what arrived (digests, root, signature, hash chain). Nothing here reads a synced row.
extension TransactionApplier {
    /// Whether this replica has applied the transaction already.
    func hasApplied(origin: String, seq: Int64) throws -> Bool {
        guard let index = sites.existingIndex(of: origin) else { return false }
        return try appliedSeq(index) >= seq
    }

    func appliedSeq(_ index: Int64) throws -> Int64 {
        try steppedOverRemovedRuns(index, admission.appliedSeq(db, index))
    }

    /// Checks that `header` may be applied now: new, next in its origin's sequence, its causal
    /// predecessors present, its clock within bounds. Returns `false` when it was applied before.
    func check(_ header: TransactionRecord) throws -> Bool {
        if header.origin == replica.siteID {
            let own = try appliedSeq(1)
            if header.seq <= own { return false }
            throw LiaisonError(
                .invalidTransaction,
                "transaction \(header.site)#\(header.seq) claims to come from this replica, which has only \(own)")
        }
        guard SiteCode(header.site) != nil, TrustStore.isValidSiteID(header.origin), header.seq > 0 else {
            throw LiaisonError(
                .invalidTransaction, "transaction with origin '\(header.origin.prefix(64))' has an invalid header")
        }
        try checkIdentity(header)
        let index = sites.existingIndex(of: header.origin)
        let applied = try index.map(appliedSeq) ?? 0
        if let index, header.seq <= applied {
            try compareWithApplied(header, index: index)
            return false
        }
        if header.seq != applied + 1 {
            throw LiaisonError(
                .invalidTransaction,
                "transaction \(header.site)#\(header.seq) arrived before \(header.site)#\(applied + 1); "
                    + "sync with a peer that has the missing transactions")
        }
        // Only the sites the context names are looked up (most one-row transactions name none);
        // a run that compaction removed at the source counts as applied (`ChainBase`).
        for (site, seq) in header.context.entries where site != header.origin && seq > 0 {
            let siteIndex = sites.existingIndex(of: site)
            let logged =
                try siteIndex.map(appliedSeq)
                ?? db.first("SELECT seq FROM _liaison_site WHERE site_id = ?", [.text(site)]) { $0.int64(0) } ?? 0
            let have = try siteIndex.map { try steppedOverRemovedRuns($0, logged) } ?? logged
            guard have < seq else { continue }
            throw LiaisonError(
                .invalidTransaction,
                "transaction \(header.site)#\(header.seq) depends on \(seq) transactions of site \(site), "
                    + "this replica has \(have)")
        }
        try replica.clock.check(remote: header.hlc, from: header.site)
        try checkAboveChainBases(header)
        return true
    }

    /// What `admit` established about a transaction whose signature and chain link verify.
    struct Admitted {
        var index: Int64
        var origin: VersionStore.Origin
        var write: CellWrite
        var name: String
        /// The digest of each change present, by position.
        var received: [Int: String]
        /// Signed forms kept from the first pass (only when the changes are an array).
        var forms: [Int: SignedForm]
        var context: String
        var root: String
        var signedBytes: Data
        /// The header digest: SHA-256 of `signedBytes`, hex (what the next transaction links to).
        var digest: String
        /// The hash-chain link, as received or filled in from the change log (`linked`).
        var previous: String?
    }

    /// `header` with its hash-chain link filled in where a page left it out (`ChainLinks`) and
    /// the record before it is not at hand: a batch cut in chunks, a held transaction released
    /// later, a bundle imported in parts. The link is the digest this replica knows for the
    /// origin's transaction before (`knownDigest`). The signature covers the link, so a link that
    /// does not match fails the signature check.
    func linked(_ header: TransactionRecord) throws -> TransactionRecord {
        guard header.previous == nil, header.seq > 1 else { return header }
        var linked = header
        linked.previous = try knownDigest(origin: header.origin, seq: header.seq - 1)
        return linked
    }

    /// The header digest of `origin#seq` as this replica knows it: from the change log, or
    /// computed from the transaction held in quarantine (whose own left-out link is filled the
    /// same way, walking back through what is held). `nil` when neither has it.
    func knownDigest(origin: String, seq: Int64) throws -> String? {
        var held: [TransactionRecord] = []
        var digest: String?
        var current = seq
        while current >= 1, held.count <= QuarantineLimits().maxTransactions {
            if let index = sites.existingIndex(of: origin),
                let logged = try ChainBase.digest(db, site: index, seq: current)
            {
                digest = logged
                break
            }
            guard
                let text = try db.first(
                    "SELECT record FROM _liaison_quarantine WHERE origin = ? AND seq = ?",
                    [.text(origin), .integer(current)], { $0.text(0) }),
                let record = try? WireJSON.decode(TransactionRecord.self, from: Data(text.utf8))
            else { return nil }
            held.append(record)
            if record.previous != nil || current == 1 { break }
            current -= 1
        }
        // The walk must end at a known digest, a record that carries its link, or seq 1.
        if digest == nil, let earliest = held.last, earliest.previous == nil, earliest.seq > 1 { return nil }
        for var record in held.reversed() {
            if record.previous == nil, record.seq > 1 { record.previous = digest }
            guard let bytes = try? Self.expectedSignedBytes(of: record, tables: replica.tables) else { return nil }
            digest = SiteKey.sha256Hex(bytes)
        }
        return digest
    }

    /// Pass 1 of `apply`: each change's signed form and digest, the root, the signature and the
    /// hash-chain link. Nothing but the schema and the change log's heads is read.
    func admit<Changes: Sequence<ChangeRecord>>(_ header: TransactionRecord, changes: () throws -> Changes) throws
        -> Admitted
    {
        let opened = try open(header)
        let (key, index, header, origin, write, name) = (
            opened.key, opened.index, opened.header, opened.origin, opened.write, opened.name
        )
        // Pass 1: each change's signed form and digest; nothing but the schema is read.
        var received: [Int: String] = [:]
        var forms: [Int: SignedForm] = [:]
        let keepsForms = Changes.self == [ChangeRecord].self
        var count = 0
        for change in try changes() {
            let position = change.index ?? count
            count += 1
            guard position >= 0, position < header.total, received[position] == nil else {
                throw LiaisonError(
                    .invalidTransaction, "transaction \(name) has a change at an invalid position \(position)")
            }
            let computed = currentForms.flatMap { $0.indices.contains(count - 1) ? $0[count - 1] : nil }
            let form = try signedForm(of: change, name: name, computed: computed)
            if let expected = header.digests?[position], expected != form.digest {
                throw LiaisonError(
                    .invalidTransaction,
                    "change \(position) of transaction \(name) does not match its signed digest: it was altered")
            }
            received[position] = form.digest
            if keepsForms { forms[position] = form }
        }
        if header.digests == nil, received.count != header.total {
            throw LiaisonError(
                .invalidTransaction, "transaction \(name) announced \(header.total) changes but held \(received.count)")
        }
        let context = ChangeCodec.encodeContext(header.context)
        let root: String
        let bytes: Data
        let digest: String
        // The batch computed the root, the signed bytes and their digest of this very record, with
        // the link restored as here (`BatchForms`, by position and link): taken, not computed again.
        if let position = currentIndex, let batchForms, batchForms.isValid,
            let known = try? (
                batchForms.root(at: position), batchForms.signedBytes(of: header, at: position),
                batchForms.headerDigest(of: header, at: position)
            )
        {
            (root, bytes, digest) = known
        } else {
            let digests = header.digests ?? (0..<header.total).map { received[$0]! }
            root = TransactionDigest.root(digests)
            bytes = Self.signedBytes(of: header, context: context, root: root)
            digest = SiteKey.sha256Hex(bytes)
        }
        try checkSignatureAndLink(header, bytes: bytes, digest: digest, key: key, index: index, name: name)
        return Admitted(
            index: index, origin: origin, write: write, name: name, received: received, forms: forms,
            context: context, root: root, signedBytes: bytes, digest: digest, previous: header.previous)
    }

    /// Refuses `header` (its link restored) unless its origin's key signed `bytes` (whose digest is
    /// `digest`) and it follows the transaction before it in its origin's hash chain.
    func checkSignatureAndLink(
        _ header: TransactionRecord, bytes: Data, digest: String, key: Curve25519.Signing.PublicKey, index: Int64,
        name: String
    ) throws {
        guard isAuthentic(header, bytes: bytes, digest: digest, key: key) else {
            throw LiaisonError(
                .invalidTransaction,
                "transaction \(name) is not signed by \(header.site)'s key: it was forged or altered; nothing of this batch was applied",
                cause: SecurityFinding.forgery)
        }
        if header.seq > 1 {
            // The digest of the transaction this batch applied just before, else from the log, or
            // the chain base where a compacted prefix ends (`ChainBase`).
            let expected =
                try lastApplied[index].flatMap { $0.seq == header.seq - 1 ? $0.digest : nil }
                ?? ChainBase.digest(db, site: index, seq: header.seq - 1)
            guard let expected, expected == header.previous else {
                throw LiaisonError(
                    .invalidTransaction,
                    "transaction \(name) does not follow \(header.site)#\(header.seq - 1) in its hash chain")
            }
        }
    }

    /// A received change in the form its origin signed: table, declared scope, canonical values and
    /// levels, digest.
    struct SignedForm {
        var table: TableInfo
        var scope: String
        var values: String?
        var levels: String?
        var digest: String
        /// `false` when `values` was not computed (`admittedForm`): `canonicalValues` computes it.
        var hasValues = true

        /// The change's canonical values, as its origin signed them.
        func canonicalValues(of change: ChangeRecord) -> String? {
            hasValues ? values : TransactionApplier.canonicalValues(of: change, table: table)
        }
    }

    /// The form of a change whose digest pass 1 (`admit`) computed from these very bytes: its
    /// values are encoded again only if they are logged (`log`), never hashed again.
    func admittedForm(of change: ChangeRecord, name: String, digest: String?) throws -> SignedForm {
        guard let digest else { return try signedForm(of: change, name: name) }
        guard let scope = change.scope, Scope.isValid(scope) else {
            throw LiaisonError(.invalidTransaction, "a change of transaction \(name) has no valid scope")
        }
        let table = try replica.receivedTable(named: change.table)
        let levels: String? = if case .text(let text) = ChangeCodec.encodeLevels(change.levels) { text } else { nil }
        return SignedForm(table: table, scope: scope, values: nil, levels: levels, digest: digest, hasValues: false)
    }

    /// `computed`: the form `BatchForms` computed for this very change with the same tables.
    func signedForm(of change: ChangeRecord, name: String, computed: BatchForms.Form? = nil) throws -> SignedForm {
        guard let scope = change.scope, Scope.isValid(scope) else {
            throw LiaisonError(.invalidTransaction, "a change of transaction \(name) has no valid scope")
        }
        let table = try replica.receivedTable(named: change.table)
        if let computed, batchForms?.isValid == true {
            return SignedForm(
                table: table, scope: scope, values: computed.values, levels: computed.levels, digest: computed.digest)
        }
        let (values, levels, digest) = try Self.signedForm(of: change, table: table, scope: scope)
        return SignedForm(table: table, scope: scope, values: values, levels: levels, digest: digest)
    }

    /// A change's canonical values and levels, and its digest, as its origin signed them.
    static func signedForm(of change: ChangeRecord, table: TableInfo, scope: String) throws
        -> (values: String?, levels: String?, digest: String)
    {
        let values = canonicalValues(of: change, table: table)
        let levels: String? = if case .text(let text) = ChangeCodec.encodeLevels(change.levels) { text } else { nil }
        let digest = TransactionDigest.change(
            table: change.table, id: change.id, op: change.op.rawValue, scope: scope, values: values, levels: levels,
            bases: CellBases.encode(change.bases))
        return (values, levels, digest)
    }

    /// A change's values, normalized for `table` and canonically encoded (`nil`: none).
    static func canonicalValues(of change: ChangeRecord, table: TableInfo) -> String? {
        change.values.map { received in
            // Only a whole number in a `real` column changes (`Validation.normalized`); every
            // other value, and any of a column this replica does not know yet (opaque data), is
            // kept as it came, so the dictionary is copied only when one does.
            var normalized = received
            for (name, value) in received {
                guard case .integer = value, let position = table.columnIndex[name] else { continue }
                let stored = Validation.normalized(value, for: table.columns[position])
                if stored != value { normalized[name] = stored }
            }
            return CanonicalJSON.object(normalized)
        }
    }

    /// The bytes a transaction's signature covers.
    static func signedBytes(of header: TransactionRecord, context: String, root: String) -> Data {
        TransactionDigest.header(
            origin: header.origin, site: header.site, seq: header.seq, hlc: header.hlc.rawValue, author: header.author,
            context: context, resolves: header.resolves, previous: header.previous, root: root, total: header.total)
    }

    /// Starts checking the signatures of a batch's complete transactions on other cores, while the
    /// batch applies, each unsigned one tied to the signed run that covers it (`VerifiedHeaders`,
    /// `SignedRuns`): `apply` then skips the check for exactly these bytes under these keys.
    /// Anything that fails here is left to `apply`, which checks it again and says what is wrong.
    func verifyAhead(_ records: [TransactionRecord]) throws {
        verified = planVerification(records)
    }

    /// The signed bytes of a complete transaction as its changes imply them; throws on anything malformed.
    static func expectedSignedBytes(of record: TransactionRecord, tables: [String: TableInfo]) throws -> Data {
        let digests: [String]
        if let listed = record.digests {
            digests = listed
        } else {
            // `total` comes from the sender: allocate only for changes actually present.
            guard record.total == record.changes.count else { throw LiaisonError(.invalidTransaction, "incomplete") }
            var byPosition = [String?](repeating: nil, count: record.total)
            for (count, change) in record.changes.enumerated() {
                let position = change.index ?? count
                guard position >= 0, position < record.total, byPosition[position] == nil, let scope = change.scope
                else { throw LiaisonError(.invalidTransaction, "malformed") }
                let table = tables[change.table] ?? .opaque(change.table)
                byPosition[position] = try signedForm(of: change, table: table, scope: scope).digest
            }
            guard !byPosition.contains(nil) else { throw LiaisonError(.invalidTransaction, "incomplete") }
            digests = byPosition.map { $0! }
        }
        return signedBytes(
            of: record, context: ChangeCodec.encodeContext(record.context), root: TransactionDigest.root(digests))
    }
}

/// Values built once and only read afterwards, handed to the verifying threads.
final class ImmutableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
