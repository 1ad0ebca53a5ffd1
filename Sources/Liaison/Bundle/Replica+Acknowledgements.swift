import Foundation

extension Replica {
    /// This replica's signed statement of what it has applied, addressed to the site `peer` (its
    /// site id, when known).
    public func makeAcknowledgement(to peer: String?) throws -> Acknowledgement {
        var ack = Acknowledgement(
            site: siteID, siteCode: siteCode.rawValue, peer: peer, vector: try versionVector(),
            at: Self.acknowledgementTime(), signature: "")
        ack.signature = try TransactionDigest.sign(ack.signedBytes, with: try requireSigningKey())
        return ack
    }

    /// Milliseconds, so two acknowledgements made in one second still order.
    static func acknowledgementTime() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Checks `ack` against the trusted key of `peer`'s site and keeps it when it is newer than the
    /// one held. Returns whether it was kept; throws when it is not `peer`'s genuine statement.
    @discardableResult
    public func recordAcknowledgement(_ ack: Acknowledgement, from peer: PeerRecord, via: String) throws -> Bool {
        try withConnection { db in
            try transaction(db) {
                try checkAcknowledgement(ack, from: peer, db)
                try AcknowledgementStore.prepare(db)
                return try AcknowledgementStore(db: db).record(ack, peer: peer.name, via: via)
            }
        }
    }

    func checkAcknowledgement(_ ack: Acknowledgement, from peer: PeerRecord, _ db: Connection) throws {
        guard TrustStore.isValidSiteID(ack.site), peer.siteID == nil || peer.siteID == ack.site else {
            throw LiaisonError(
                .invalidInput, "an acknowledgement from \(peer.name) names another site; it was not recorded")
        }
        guard ack.peer == nil || ack.peer == siteID else {
            throw LiaisonError(
                .invalidInput, "an acknowledgement from \(peer.name) is addressed to another site; it was not recorded")
        }
        // The site must be the peer's: by its site id, else by the name it is registered under.
        let code = try db.first("SELECT code FROM _liaison_site WHERE site_id = ?", [.text(ack.site)]) { $0.text(0) }
        guard code == ack.siteCode, peer.siteID != nil || peer.name == ack.siteCode else {
            throw LiaisonError(
                .invalidInput,
                "an acknowledgement from \(peer.name) names a site it is not known as here; it was not recorded")
        }
        guard let trusted = try TrustStore(db: db).trustedKey(of: ack.site), let key = try? SiteKey.publicKey(trusted),
            TransactionDigest.isValid(signature: ack.signature, header: ack.signedBytes, key: key)
        else {
            throw LiaisonError(
                .invalidInput,
                "an acknowledgement claiming to come from \(peer.name) is not signed by its trusted key; it was not recorded"
            )
        }
    }

    /// The newest acknowledgement of every peer, by peer name.
    public func acknowledgements() throws -> [String: Acknowledgement] {
        try withConnection { db in try AcknowledgementStore(db: db).all() }
    }
}
