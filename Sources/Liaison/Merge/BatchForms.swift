import Foundation

/// The signed form of every change of a batch (canonical values and levels, digest), computed once
/// per record and shared by the three steps that need it: restoring left-out hash links
/// (`ChainLinks`), planning the signature checks (`planVerification`) and admitting each
/// transaction (`admit`). Before, each step computed it again: three canonical encodings and
/// SHA-256 digests per change, two thirds of the time spent admitting a one-row transaction.
///
/// Forms are kept by the record's position in the batch, so two different copies of one
/// transaction never share them. They are computed with the tables as the batch found them; a
/// schema change applied inside the batch invalidates them, and every step then computes its own
/// again, as before.
final class BatchForms {
    /// A change in the form its origin signed it.
    struct Form {
        var values: String?
        var levels: String?
        var digest: String
    }

    private let records: [TransactionRecord]
    private let tables: [String: TableInfo]
    private var forms: [[Form]?]
    private var roots: [String?]
    private var headers: [Int: Header] = [:]
    /// A record's signed bytes under one link, and their digest once asked for.
    private struct Header {
        var previous: String?
        var bytes: Data
        var digest: String?
    }
    /// `false` once the schema changed inside the batch.
    private(set) var isValid = true

    init(_ records: [TransactionRecord], tables: [String: TableInfo]) {
        self.records = records
        self.tables = tables
        self.forms = Array(repeating: nil, count: records.count)
        self.roots = Array(repeating: nil, count: records.count)
    }

    /// Drops every form: the tables they were computed with changed.
    func invalidate() { isValid = false }

    /// The forms of the changes of record `index`, in the order of its `changes`; `nil` when
    /// invalid or when a change lacks a scope (the steps then report it themselves).
    func forms(at index: Int) -> [Form]? {
        guard isValid, records.indices.contains(index) else { return nil }
        if let known = forms[index] { return known }
        var computed: [Form] = []
        computed.reserveCapacity(records[index].changes.count)
        for change in records[index].changes {
            guard let scope = change.scope else { return nil }
            let table = tables[change.table] ?? .opaque(change.table)
            guard let form = try? TransactionApplier.signedForm(of: change, table: table, scope: scope) else {
                return nil
            }
            computed.append(Form(values: form.values, levels: form.levels, digest: form.digest))
        }
        forms[index] = computed
        return computed
    }

    /// The root of complete record `index`, as `SignedRuns.root` computes it (which checks the same).
    func root(at index: Int) throws -> String {
        guard isValid, records.indices.contains(index) else { throw LiaisonError(.invalidTransaction, "no forms") }
        if let known = roots[index] { return known }
        let record = records[index]
        let root: String
        if let listed = record.digests {
            root = TransactionDigest.root(listed)
        } else {
            guard record.total == record.changes.count, let forms = forms(at: index) else {
                throw LiaisonError(.invalidTransaction, "incomplete")
            }
            var byPosition = [String?](repeating: nil, count: record.total)
            for (count, change) in record.changes.enumerated() {
                let position = change.index ?? count
                guard position >= 0, position < record.total, byPosition[position] == nil else {
                    throw LiaisonError(.invalidTransaction, "malformed")
                }
                byPosition[position] = forms[count].digest
            }
            guard !byPosition.contains(nil) else { throw LiaisonError(.invalidTransaction, "incomplete") }
            root = TransactionDigest.root(byPosition.map { $0! })
        }
        roots[index] = root
        return root
    }

    /// The signed bytes of complete record `record` at `index` (its link as given), computed once
    /// per record and link: restoring the next record's link and planning this one's check both
    /// need them. `record` is the batch's record at `index`, its link restored or not; nothing
    /// else of it differs, so the link and the position name the bytes.
    func signedBytes(of record: TransactionRecord, at index: Int) throws -> Data {
        if let known = headers[index], known.previous == record.previous { return known.bytes }
        let computed = TransactionApplier.signedBytes(
            of: record, context: ChangeCodec.encodeContext(record.context), root: try root(at: index))
        headers[index] = Header(previous: record.previous, bytes: computed)
        return computed
    }

    /// The header digest of record `record` at `index` (SHA-256 of `signedBytes`, hex), computed
    /// once per record and link: restoring the next record's link, planning the checks, admitting
    /// and logging the record all need it.
    func headerDigest(of record: TransactionRecord, at index: Int) throws -> String {
        let bytes = try signedBytes(of: record, at: index)
        if let known = headers[index]?.digest { return known }
        let digest = SiteKey.sha256Hex(bytes)
        headers[index]?.digest = digest
        return digest
    }
}
