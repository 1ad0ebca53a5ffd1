import Crypto
import Foundation

/// The bundle file format: `LIAISON-BUNDLE 1\n`, the `BundleEnvelope` as one line of JSON, then
/// exactly `envelope.length` payload bytes (the JSON `BundleBody`, deflated when the envelope says
/// `compression`, then HPKE-sealed when it has a `seal`).
///
/// Every file is hostile until checked: sizes are bounded before anything is decoded, and every
/// field a person may see is checked against the rules for site ids and codes.
enum BundleFile {
    static let magic = Data("LIAISON-BUNDLE 1\n".utf8)
    /// The largest bundle file read (1 GiB).
    static let maxBytes = 1 << 30
    /// The longest envelope line.
    static let maxEnvelopeBytes = 64 * 1024

    /// The bytes the sender signs: a domain label and the hex SHA-256 of the plaintext body.
    static func signedBytes(digest: String) -> Data { Data("liaison-bundle-v1\n\(digest)".utf8) }

    static func encode(_ envelope: BundleEnvelope, payload: Data) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = magic
        data.append(try encoder.encode(envelope))
        data.append(UInt8(ascii: "\n"))
        data.append(payload)
        return data
    }

    /// Splits a file into its checked envelope and its payload.
    static func decode(_ data: Data) throws -> (envelope: BundleEnvelope, payload: Data) {
        guard data.count <= maxBytes else {
            throw refused("it is larger than \(maxBytes >> 20) MiB")
        }
        guard data.starts(with: magic) else {
            throw refused("it does not start with 'LIAISON-BUNDLE 1' (not a bundle, or a newer format)")
        }
        let rest = data.dropFirst(magic.count)
        guard let newline = rest.prefix(maxEnvelopeBytes).firstIndex(of: UInt8(ascii: "\n")) else {
            throw refused("its envelope line is missing or longer than \(maxEnvelopeBytes) bytes")
        }
        let envelope: BundleEnvelope
        do {
            envelope = try JSONDecoder().decode(BundleEnvelope.self, from: Data(rest[rest.startIndex..<newline]))
        } catch {
            throw refused("its envelope is not valid JSON of a bundle envelope")
        }
        let payload = Data(rest[rest.index(after: newline)...])
        guard envelope.length == payload.count else {
            throw refused(
                "its payload has \(payload.count) bytes where the envelope says \(envelope.length) (cut or padded)")
        }
        try check(envelope)
        return (envelope, payload)
    }

    /// Checks the fields a person may see or that name keys.
    private static func check(_ envelope: BundleEnvelope) throws {
        guard TrustStore.isValidSiteID(envelope.sender), SiteCode(envelope.senderSite) != nil,
            envelope.recipient.map(TrustStore.isValidSiteID) ?? true, isValidName(envelope.recipientSite)
        else { throw refused("its envelope names an invalid site id or code") }
        guard envelope.digest.utf8.count == 64, envelope.digest.utf8.allSatisfy({ isHexDigit($0) }) else {
            throw refused("its envelope digest is not a SHA-256")
        }
        if let compression = envelope.compression, compression != BundleCompression.method {
            throw refused("it is compressed with an unknown method (this liaison opens \(BundleCompression.method))")
        }
        if let seal = envelope.seal, seal.suite != BundleSealing.suite {
            throw refused("it is sealed with an unknown suite (this liaison opens \(BundleSealing.suite))")
        }
    }

    /// A peer name or site code as the sender knows the recipient.
    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)
    }

    /// The error for a file that is not a genuine bundle: nothing of it is used.
    static func refused(_ why: String) -> LiaisonError {
        LiaisonError(.invalidInput, "the bundle was refused: \(why); nothing of it was imported")
    }
}

/// Sealing a payload to its recipient: HPKE (RFC 9180) base mode with DHKEM(X25519, HKDF-SHA256),
/// HKDF-SHA256 and ChaCha20-Poly1305, info `liaison-bundle-v1`, no associated data.
enum BundleSealing {
    static let suite = "X25519-SHA256-ChaChaPoly"
    private static let info = Data("liaison-bundle-v1".utf8)

    static func seal(_ plaintext: Data, to recipientKey: String) throws -> (BundleSeal, Data) {
        let key = try publicKey(recipientKey)
        var sender = try HPKE.Sender(recipientKey: key, ciphersuite: .Curve25519_SHA256_ChachaPoly, info: info)
        let ciphertext = try sender.seal(plaintext)
        return (
            BundleSeal(
                suite: suite, encapsulatedKey: sender.encapsulatedKey.base64EncodedString(),
                recipientKey: recipientKey),
            ciphertext
        )
    }

    static func open(_ ciphertext: Data, seal: BundleSeal, with key: Curve25519.KeyAgreement.PrivateKey) throws -> Data
    {
        guard seal.recipientKey == key.publicKey.rawRepresentation.base64EncodedString() else {
            throw LiaisonError(
                .invalidInput,
                "the bundle is sealed to another key (\(seal.recipientKey.prefix(44))), not this replica's: "
                    + "it is meant for another replica, or was made before this replica's key rotated; ask its sender for a new one"
            )
        }
        do {
            guard let encapsulated = Data(base64Encoded: seal.encapsulatedKey) else {
                throw CryptoKitError.incorrectParameterSize
            }
            var recipient = try HPKE.Recipient(
                privateKey: key, ciphersuite: .Curve25519_SHA256_ChachaPoly, info: info, encapsulatedKey: encapsulated)
            return try recipient.open(ciphertext)
        } catch {
            throw BundleFile.refused("its sealed payload does not open with this replica's key (altered in transit)")
        }
    }

    static func publicKey(_ base64: String) throws -> Curve25519.KeyAgreement.PublicKey {
        guard let raw = Data(base64Encoded: base64), raw.count == 32,
            let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw)
        else {
            throw LiaisonError(.invalidInput, "'\(base64.prefix(60))' is not an X25519 sealing key (32 bytes, base64)")
        }
        return key
    }
}

extension Replica {
    /// The largest bundle file a replica reads.
    public static var maxBundleBytes: Int { BundleFile.maxBytes }

    /// This replica's X25519 key for opening sealed bundles: derived from its signing key with
    /// HKDF-SHA256 (salt `liaison-bundle-sealing-v1`, info the site id), so the key file holds no
    /// second secret and a key rotation rotates it too.
    func sealingPrivateKey() throws -> Curve25519.KeyAgreement.PrivateKey {
        let signing = try requireSigningKey()
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: signing.rawRepresentation),
            salt: Data("liaison-bundle-sealing-v1".utf8), info: Data(siteID.utf8), outputByteCount: 32)
        return try derived.withUnsafeBytes { try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: Data($0)) }
    }

    /// The public half of this replica's sealing key (base64), which senders of bundles seal to.
    public func sealingKey() throws -> String {
        try sealingPrivateKey().publicKey.rawRepresentation.base64EncodedString()
    }
}
