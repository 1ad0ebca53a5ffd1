import Foundation

/// A signed statement that one of a site's keys is compromised since `since`: transactions it
/// signs stamped from then on are held for review wherever the statement arrives; earlier ones stay
/// verifiable. It travels in the site's `SiteKeyRecord` through every replica and relay.
///
/// `signature` is the Ed25519 signature of `signer` over the canonical
/// `{"by":BY,"key":KEY,"signer":SIGNER,"since":SINCE,"siteID":SITE_ID,"type":"revocation"}`. A
/// receiver accepts it when `by` is the site itself and `signer` is the revoked key or one that
/// came after it in the site's chain, or when `by` is a site it marked introducer and `signer` that
/// site's trusted key.
public struct KeyRevocation: Hashable, Sendable, Codable {
    /// The revoked Ed25519 public key, base64.
    public var key: String
    /// Milliseconds since 1970 from which the key is not to be believed.
    public var since: Int64
    /// The site id of who revokes: the site itself, or an introducer.
    public var by: String
    /// The public key that signed, base64.
    public var signer: String
    public var signature: String

    public init(key: String, since: Int64, by: String, signer: String, signature: String) {
        self.key = key
        self.since = since
        self.by = by
        self.signer = signer
        self.signature = signature
    }
}
