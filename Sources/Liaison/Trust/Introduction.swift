import Crypto
import Foundation

/// A signed statement "site `siteID`, code `site`, has key `key`", made by `introducer`.
///
/// A replica adds one to every key it sends that it trusts itself (not its own: nobody can vouch
/// for themselves). A receiver trusts the key only when `introducer` is marked introducer there and
/// the signature verifies under the introducer's trusted key.
package enum Introduction {
    /// The signed bytes: canonical JSON `{"introducer":…,"key":…,"site":…,"siteID":…}`.
    package static func bytes(introducer: String, siteID: String, site: String, key: String) -> Data {
        Data(
            ("{\"introducer\":" + CanonicalJSON.string(introducer) + ",\"key\":" + CanonicalJSON.string(key)
                + ",\"site\":" + CanonicalJSON.string(site) + ",\"siteID\":" + CanonicalJSON.string(siteID) + "}").utf8)
    }

    static func sign(
        introducer: String, siteID: String, record: SiteKeyRecord, with key: Curve25519.Signing.PrivateKey
    ) throws -> String {
        try key.signature(for: bytes(introducer: introducer, siteID: siteID, site: record.site, key: record.key))
            .base64EncodedString()
    }

    static func isValid(_ record: SiteKeyRecord, siteID: String, introducerKey: Curve25519.Signing.PublicKey) -> Bool {
        guard let introducer = record.introducer, let signature = record.introduction,
            let raw = Data(base64Encoded: signature)
        else { return false }
        return introducerKey.isValidSignature(
            raw, for: bytes(introducer: introducer, siteID: siteID, site: record.site, key: record.key))
    }
}
