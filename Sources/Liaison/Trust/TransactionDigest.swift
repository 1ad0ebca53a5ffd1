import Crypto
import Foundation

/// What a transaction's signature covers, in canonical bytes.
///
/// Each change has a digest: SHA-256 of its canonical JSON (table, id, op, scope, values, levels).
/// The header names the root of those digests, so a peer that withholds changes outside a
/// receiver's scopes can still prove the rest: it sends the withheld changes' digests instead.
/// The header also names the digest of the origin's previous transaction, chaining each origin's
/// log; the transaction's own digest is the SHA-256 of its header bytes.
package enum TransactionDigest {
    /// The digest of one change, from its canonical parts (`values`/`levels`/`bases` as canonical JSON text).
    ///
    /// Computed over bytes (`ChangeDigest`): every received change's digest is checked, and building
    /// the two JSON texts as strings cost more than hashing them. The text form is `body` and
    /// `change(…, body:)`, which `ChangeDigestTests` compares with this.
    package static func change(
        table: String, id: String, op: String, scope: String, values: String?, levels: String?, bases: String? = nil
    ) -> String {
        String(
            decoding: ChangeDigest.hex(
                table: table, id: id, op: op, scope: scope, values: values.map { Array($0.utf8) }, levels: levels,
                bases: bases),
            as: UTF8.self)
    }

    /// The digest of a change's content: SHA-256 of `{"bases":…,"levels":…,"values":…}` (absent
    /// parts left out, so a change without bases has the digest it had before bases existed).
    package static func body(values: String?, levels: String?, bases: String? = nil) -> String {
        var parts: [String] = []
        if let bases { parts.append("\"bases\":" + bases) }
        if let levels { parts.append("\"levels\":" + levels) }
        if let values { parts.append("\"values\":" + values) }
        return SiteKey.sha256Hex(Data(("{" + parts.joined(separator: ",") + "}").utf8))
    }

    /// The digest of a change from its outline: `{"body":…,"id":…,"op":…,"scope":…,"table":…}`.
    /// A receiver can check which row a withheld change touched without seeing its values.
    package static func change(table: String, id: String, op: String, scope: String, body: String) -> String {
        let out =
            "{\"body\":" + CanonicalJSON.string(body) + ",\"id\":" + CanonicalJSON.string(id) + ",\"op\":"
            + CanonicalJSON.string(op) + ",\"scope\":" + CanonicalJSON.string(scope) + ",\"table\":"
            + CanonicalJSON.string(table) + "}"
        return SiteKey.sha256Hex(Data(out.utf8))
    }

    /// The root of a transaction's change digests, in order.
    package static func root(_ digests: [String]) -> String {
        // One buffer, one call: the same bytes as an update per digest, without a `Data` each.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digests.count * 64)
        for digest in digests { bytes.append(contentsOf: digest.utf8) }
        return SiteKey.hex(SHA256.hash(data: bytes))
    }

    /// The signed bytes of a transaction header:
    /// `{"author":…,"context":…,"hlc":…,"origin":…[,"previous":…][,"resolves":[…]],"root":…,"seq":…,"site":…,"total":…}`.
    ///
    /// Written into one byte buffer (every received transaction's header is rebuilt to check its
    /// signature; built by string concatenation it cost ~31 k instructions, more than hashing it).
    /// Strings are escaped as `CanonicalJSON.appendString` escapes them (`HeaderBytesTests`).
    package static func header(
        origin: String, site: String, seq: Int64, hlc: Int64, author: String, context: String, resolves: [String]?,
        previous: String?, root: String, total: Int
    ) -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(
            140 + author.utf8.count + context.utf8.count + origin.utf8.count + (previous?.utf8.count ?? 0)
                + root.utf8.count + site.utf8.count + (resolves?.reduce(0) { $0 + $1.utf8.count + 3 } ?? 0))
        HeaderBytes.append(HeaderBytes.author, to: &out)
        HeaderBytes.appendString(author, to: &out)
        HeaderBytes.append(HeaderBytes.context, to: &out)
        out.append(contentsOf: context.utf8)
        HeaderBytes.append(HeaderBytes.hlc, to: &out)
        HeaderBytes.appendNumber(hlc, to: &out)
        HeaderBytes.append(HeaderBytes.origin, to: &out)
        HeaderBytes.appendString(origin, to: &out)
        if let previous {
            HeaderBytes.append(HeaderBytes.previous, to: &out)
            HeaderBytes.appendString(previous, to: &out)
        }
        if let resolves, !resolves.isEmpty {
            HeaderBytes.append(HeaderBytes.resolves, to: &out)
            for (index, id) in resolves.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                HeaderBytes.appendString(id, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        HeaderBytes.append(HeaderBytes.root, to: &out)
        HeaderBytes.appendString(root, to: &out)
        HeaderBytes.append(HeaderBytes.seq, to: &out)
        HeaderBytes.appendNumber(seq, to: &out)
        HeaderBytes.append(HeaderBytes.site, to: &out)
        HeaderBytes.appendString(site, to: &out)
        HeaderBytes.append(HeaderBytes.total, to: &out)
        HeaderBytes.appendNumber(Int64(total), to: &out)
        out.append(UInt8(ascii: "}"))
        return Data(out)
    }

    static func sign(_ header: Data, with key: Curve25519.Signing.PrivateKey) throws -> String {
        try key.signature(for: header).base64EncodedString()
    }

    static func isValid(signature: String?, header: Data, key: Curve25519.Signing.PublicKey) -> Bool {
        guard let signature, let raw = Data(base64Encoded: signature) else { return false }
        return key.isValidSignature(raw, for: header)
    }
}
