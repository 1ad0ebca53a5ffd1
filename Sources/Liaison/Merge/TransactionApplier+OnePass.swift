import Foundation

/// One pass over a transaction too large to hold in memory (a staged transaction read from the
/// file one change at a time): each change is decoded once, hashed once, and merged as it comes,
/// where `apply` reads the changes twice (once to check the signature, once to merge).
///
/// What a forged or altered transaction is told still never depends on the rows held here: a
/// change whose merge fails (the write rule, the owner rules, a type mismatch, …) stops the merge,
/// the remaining changes are only hashed, and the failure is reported only once the signature and
/// the hash chain verify; otherwise the forgery is reported. What failed to hash or does not match
/// its signed digest is reported at once, as in `admit`. The caller's savepoint rolls back whatever
/// the merge wrote before a failure.
extension TransactionApplier {
    func applyInOnePass<Changes: Sequence<ChangeRecord>>(_ header: TransactionRecord, changes: Changes) throws {
        let opened = try open(header)
        let (key, index, header, origin, write, name) = (
            opened.key, opened.index, opened.header, opened.origin, opened.write, opened.name
        )
        resolving = Set(header.resolves ?? [])
        cachesWithheld = true
        defer {
            resolving = []
            rowMemo = nil
            cachesWithheld = false
        }
        var received: [Int: String] = [:]
        var seen = AppliedChanges()
        // The first failure of a step that reads rows: told only once the signature holds.
        var failure: (any Error)?
        var count = 0
        for change in changes {
            let position = change.index ?? count
            count += 1
            guard position >= 0, position < header.total, received[position] == nil else {
                throw LiaisonError(
                    .invalidTransaction, "transaction \(name) has a change at an invalid position \(position)")
            }
            let form = try signedForm(of: change, name: name)
            if let expected = header.digests?[position], expected != form.digest {
                throw LiaisonError(
                    .invalidTransaction,
                    "change \(position) of transaction \(name) does not match its signed digest: it was altered")
            }
            received[position] = form.digest
            guard failure == nil else { continue }
            do {
                try applyChange(change, form, position: position, of: origin, write: write, name: name, into: &seen)
            } catch {
                failure = error
            }
        }
        (cachesWithheld, rowMemo) = (false, nil)
        if header.digests == nil, received.count != header.total {
            throw LiaisonError(
                .invalidTransaction, "transaction \(name) announced \(header.total) changes but held \(received.count)")
        }
        let root = TransactionDigest.root(header.digests ?? (0..<header.total).map { received[$0]! })
        let context = ChangeCodec.encodeContext(header.context)
        let bytes = Self.signedBytes(of: header, context: context, root: root)
        let digest = SiteKey.sha256Hex(bytes)
        try checkSignatureAndLink(header, bytes: bytes, digest: digest, key: key, index: index, name: name)
        if let failure { throw failure }
        try finishApply(
            header,
            Admitted(
                index: index, origin: origin, write: write, name: name, received: received, forms: [:],
                context: context, root: root, signedBytes: bytes, digest: digest, previous: header.previous),
            seen)
    }
}
