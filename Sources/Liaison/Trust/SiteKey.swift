import Crypto
import Foundation

/// Ed25519 keys: this replica signs its transactions; every other site's key is pinned.
enum SiteKey {
    /// A new private key (raw, base64) and its public key (raw, base64).
    static func generate() -> (privateKey: String, publicKey: String) {
        let key = Curve25519.Signing.PrivateKey()
        return (key.rawRepresentation.base64EncodedString(), key.publicKey.rawRepresentation.base64EncodedString())
    }

    static func privateKey(_ base64: String) throws -> Curve25519.Signing.PrivateKey {
        guard let raw = Data(base64Encoded: base64) else {
            throw LiaisonError(.storage, "the replica's signing key is damaged")
        }
        return try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
    }

    static func publicKey(_ base64: String) throws -> Curve25519.Signing.PublicKey {
        guard let raw = Data(base64Encoded: base64), raw.count == 32,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else {
            throw LiaisonError(.invalidInput, "'\(base64.prefix(60))' is not an Ed25519 public key (32 bytes, base64)")
        }
        return key
    }

    /// A short, readable fingerprint of a public key: the first 16 bytes of its SHA-256, in groups.
    static func fingerprint(_ base64: String) -> String {
        let digest = SHA256.hash(data: Data(base64Encoded: base64) ?? Data(base64.utf8))
        let hex = Self.hex(digest.prefix(16))
        return stride(from: 0, to: hex.count, by: 4).map { start -> String in
            let from = hex.index(hex.startIndex, offsetBy: start)
            return String(hex[from..<hex.index(from, offsetBy: 4)])
        }.joined(separator: ":")
    }

    /// The first two groups of the fingerprint (`ab12:cd34`), shown beside a site code.
    static func shortFingerprint(_ base64: String) -> String {
        String(fingerprint(base64).prefix(9))
    }

    static func sha256Hex(_ bytes: some DataProtocol) -> String {
        hex(SHA256.hash(data: bytes))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lower-case hex of bytes (a lookup per nibble: this runs for every change digest).
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Who a replica is: what `liaison identity` prints and what peers pin.
public struct Identity: Sendable, Codable, Hashable {
    public var site: String
    public var siteID: String
    /// The Ed25519 public key, base64.
    public var publicKey: String
    public var fingerprint: String

    /// The fingerprint of a public key (base64), as `liaison identity` prints it.
    public static func fingerprint(of key: String) -> String { SiteKey.fingerprint(key) }

    /// Whether a site id is well formed (1 to 64 ASCII letters, digits, '-', '_', '.').
    public static func isValidSiteID(_ id: String) -> Bool { TrustStore.isValidSiteID(id) }
}
