import Crypto
import Foundation

/// What `DocumentationExampleTests` needs to recompute the examples of docs/PROTOCOL.md with the
/// code itself (package access: not part of the public API).
extension TransactionDigest {
    /// The header bytes a whole transaction's signature covers, its change digests computed from
    /// its changes (values converted to their columns' types) or taken from `digests`.
    package static func signedBytes(of record: TransactionRecord, schema: SchemaDefinition) throws -> Data {
        try TransactionApplier.expectedSignedBytes(of: record, tables: TableInfo.index(schema))
    }

    /// The signed bytes of whole transactions of one schema, its tables indexed once rather than
    /// for every transaction (`liaison-bench`'s per-page figures).
    package struct Maker {
        private let tables: [String: TableInfo]

        package init(schema: SchemaDefinition) { tables = TableInfo.index(schema) }

        package func signedBytes(of record: TransactionRecord) throws -> Data {
            try TransactionApplier.expectedSignedBytes(of: record, tables: tables)
        }
    }

    /// Whether `signature` (base64) is an Ed25519 signature of `bytes` by `publicKey` (base64).
    package static func verify(signature: String, of bytes: Data, publicKey: String) -> Bool {
        guard let key = try? SiteKey.publicKey(publicKey) else { return false }
        return isValid(signature: signature, header: bytes, key: key)
    }

    /// The signed head a chain proof leads to from the transaction whose header bytes are
    /// `start` (`SignedRuns.head`): its header bytes and signature, or `nil` when malformed.
    package static func runHead(of proof: [ChainHeader], after start: Data, seq: Int64, origin: String, site: String)
        -> (bytes: Data, signature: String)?
    {
        SignedRuns.head(of: proof, after: start, seq: seq, origin: origin, site: site).map { ($0.bytes, $0.signature) }
    }

    /// Hex SHA-256.
    package static func sha256(_ bytes: Data) -> String { SiteKey.sha256Hex(bytes) }
}

/// The signed bytes of key events, for `DocumentationExampleTests` (package access).
package enum KeyEventExamples {
    /// The bytes a revocation's signature covers.
    package static func revocationBytes(_ revocation: KeyRevocation, siteID: String) -> Data {
        TrustStore.revocationBytes(revocation, siteID: siteID)
    }

    /// The bytes an introducer's signature of a rotation covers.
    package static func vouchedRotationBytes(_ rotation: KeyRotation, siteID: String) -> Data {
        TrustStore.vouchedRotationBytes(rotation, introducer: rotation.introducer ?? "", siteID: siteID)
    }
}
