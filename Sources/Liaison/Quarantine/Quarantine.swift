import Crypto
import Foundation

/// Which refusals hold one transaction aside instead of refusing the batch that brought it.
///
/// A refusal is held when it says "not here, not now" about a genuine transaction: the sender may
/// not write that scope here, a value breaks this replica's rules, the clock is ahead, a table or
/// column this replica does not know. Anything that shows a forged, altered or malformed record is
/// not held: the batch is refused, as before.
enum Quarantine {
    /// The error codes that hold a transaction (add `.untrustedKey` when keys wait for trust).
    static let holdableCodes: Set<LiaisonError.Code> = [
        .forbiddenScope, .typeMismatch, .unknownColumn, .unknownTable, .schemaMismatch, .clockDrift, .untrustedKey,
        .behindCheckpoint,
    ]

    /// The error code of a transaction held only because an earlier one it depends on is held.
    static let heldBehind = "held_behind"

    static func holds(_ error: LiaisonError) -> Bool { holdableCodes.contains(error.code) }
}

extension TransactionApplier {
    /// Whether `record` is exactly what its origin signed: every change it carries matches its
    /// signed digest and the header's signature verifies under the origin's pinned key. Only such
    /// a record is held; anything else is refused.
    func isGenuine(_ record: TransactionRecord) -> Bool {
        // A link a page left out is filled as the apply would fill it.
        let record = (try? linked(record)) ?? record
        // Signed by the origin's trusted key or, for an origin whose key is not trusted yet, by the
        // key the sender presented for it: such a record is held until the operator decides.
        let trusted = try? publicKey(of: record.origin, site: record.site, seq: record.seq)
        let presented = presentedKeys[record.origin].flatMap { try? SiteKey.publicKey($0.key) }
        guard let key = trusted ?? presented,
            let bytes = try? Self.expectedSignedBytes(of: record, tables: replica.tables),
            isAuthentic(record, bytes: bytes, key: key)
        else { return false }
        guard let digests = record.digests else { return true }
        for (count, change) in record.changes.enumerated() {
            let position = change.index ?? (record.offset + count)
            guard position >= 0, position < digests.count, let scope = change.scope,
                let table = try? replica.receivedTable(named: change.table),
                let digest = try? Self.signedForm(of: change, table: table, scope: scope).digest,
                digest == digests[position]
            else { return false }
        }
        return true
    }
}
