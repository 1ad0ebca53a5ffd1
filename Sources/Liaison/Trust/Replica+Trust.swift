import Foundation

extension Replica {
    /// Looks at the keys a batch brought: a key already trusted passes, a key introduced by a
    /// trusted introducer becomes trusted, a key contradicting a binding refuses the batch (with an
    /// alarm). Returns the keys presented but not trusted: their transactions are refused as
    /// `.untrustedKey`, and the key is shown to the operator.
    func admitKeys(_ keys: [String: SiteKeyRecord], _ db: Connection, via source: String) throws -> [String:
        SiteKeyRecord]
    {
        let store = TrustStore(db: db)
        var untrusted: [String: SiteKeyRecord] = [:]
        for (siteID, record) in keys.sorted(by: { $0.key < $1.key }) {
            guard SiteCode(record.site) != nil, TrustStore.isValidSiteID(siteID) else {
                throw LiaisonError(
                    .invalidTransaction, "a key record names an invalid site '\(record.site.prefix(40))'")
            }
            _ = try SiteKey.publicKey(record.key)
            if let trusted = try store.trustedKey(of: siteID) {
                // Known: the same key passes (reads only); a rotation signed by the trusted key (or
                // vouched for by an introducer) moves to the new one; a key this site used before
                // is a sender behind on rotations; any other key is refused with an alarm.
                try store.checkBinding(siteID: siteID, code: record.site, via: source)
                if trusted != record.key {
                    let followed = try record.rotations.map { try store.follow($0, of: siteID, code: record.site) }
                    if followed != record.key, try !store.chain(of: siteID).contains(where: { $0.key == record.key }) {
                        try store.bind(siteID: siteID, code: record.site, key: record.key, via: source)
                    }
                }
                try admitRevocations(record.revocations, of: siteID, code: record.site, store, via: source)
                continue
            }
            try store.checkBinding(siteID: siteID, code: record.site, via: source)
            if let introducer = record.introducer, introducer != siteID, try store.isIntroducer(introducer),
                let introducerKey = try store.trustedKey(of: introducer).map(SiteKey.publicKey),
                Introduction.isValid(record, siteID: siteID, introducerKey: introducerKey)
            {
                try store.bind(siteID: siteID, code: record.site, key: record.key, via: source)
            } else {
                untrusted[siteID] = record
            }
        }
        return untrusted
    }

    /// Applies the revocations a sender passed on with a site's key; a newly revoked key leaves an
    /// alarm for the operator, naming how many transactions applied here it signed since then.
    private func admitRevocations(
        _ revocations: [KeyRevocation]?, of siteID: String, code: String, _ store: TrustStore, via source: String
    ) throws {
        for revocation in (revocations ?? []).prefix(64) where try store.admit(revocation, of: siteID, via: source) {
            let since = HybridTimestamp(milliseconds: revocation.since)
            try store.record(
                TrustNotice(
                    kind: .alarm(
                        .revocation,
                        "\(code)'s key \(SiteKey.fingerprint(revocation.key)) is revoked since \(since) by "
                            + (revocation.by == siteID ? "\(code) itself" : "introducer \(revocation.by)")
                            + ": its transactions from then on are held for review; 'liaison verify' lists any applied before"
                    ),
                    siteID: siteID, code: code, via: source))
        }
    }

    /// The keys of a page, each with this replica's introduction (its own key has none), its
    /// rotations and the revocations held here; and the keys of every site with revocations held
    /// here, so that revocations travel even when no transaction of the site does.
    func introduce(_ keys: [String: SiteKeyRecord]?) throws -> [String: SiteKeyRecord]? {
        let store = TrustStore(db: connection)
        var keys = keys ?? [:]
        for siteID in try store.sitesWithRevocations() where keys[siteID] == nil {
            guard
                let (code, key) = try connection.first(
                    "SELECT code, public_key FROM _liaison_site WHERE site_id = ? AND public_key IS NOT NULL",
                    [.text(siteID)], { ($0.text(0), $0.text(1)) })
            else { continue }
            keys[siteID] = SiteKeyRecord(site: code, key: key)
        }
        guard !keys.isEmpty else { return nil }
        for siteID in keys.keys {
            let rotations = try store.rotations(of: siteID)
            keys[siteID]?.rotations = rotations.isEmpty ? nil : rotations
            let revocations = try store.revocations(of: siteID)
            keys[siteID]?.revocations = revocations.isEmpty ? nil : revocations
        }
        for (siteID, record) in keys where siteID != self.siteID {
            keys[siteID]?.introducer = self.siteID
            keys[siteID]?.introduction = try Introduction.sign(
                introducer: self.siteID, siteID: siteID, record: SiteKeyRecord(site: record.site, key: record.key),
                with: try currentSigningKey(connection))
        }
        return keys
    }

    /// Trusts a site's key: the operator's decision, from the other side's `liaison identity` read
    /// out of band. Refuses a code bound to another site id, or a site bound to another key.
    public func trust(site: SiteCode, siteID: String, key: String) throws {
        _ = try SiteKey.publicKey(key)
        guard TrustStore.isValidSiteID(siteID) else {
            throw LiaisonError(
                .invalidInput,
                "invalid site id '\(siteID.prefix(64))': copy it from the other side's 'liaison identity'")
        }
        try withConnection { db in
            try transaction(db) {
                do {
                    if try !TrustStore(db: db).replaceRevokedKey(of: siteID, code: site.rawValue, with: key) {
                        try TrustStore(db: db).bind(siteID: siteID, code: site.rawValue, key: key, via: "operator")
                    }
                } catch let error as LiaisonError where error.code == .identityConflict {
                    throw LiaisonError(.invalidInput, error.message + " (the binding held here stays)")
                }
                try db.run(
                    "UPDATE _liaison_peer SET public_key = ? WHERE site_id = ? OR (site_id IS NULL AND name = ?)",
                    [.text(key), .text(siteID), .text(site.rawValue)])
            }
        }
        // Transactions held for want of this key apply now.
        try retryQuarantine()
    }

    /// Marks a site whose key is trusted as introducer (keys it vouches for are trusted here), or unmarks it.
    public func setIntroducer(site: SiteCode, _ isIntroducer: Bool) throws {
        try withConnection { db in
            guard
                let siteID = try db.first(
                    "SELECT site_id FROM _liaison_site WHERE code = ? AND public_key IS NOT NULL",
                    [.text(site.rawValue)],
                    { $0.text(0) })
            else {
                throw LiaisonError(
                    .invalidInput,
                    "no trusted key for \(site) here; trust it first with 'liaison trust DB \(site) --key K --site-id ID'"
                )
            }
            try db.run(
                isIntroducer
                    ? "INSERT OR IGNORE INTO _liaison_introducer(site_id) VALUES (?)"
                    : "DELETE FROM _liaison_introducer WHERE site_id = ?", [.text(siteID)])
        }
        if isIntroducer { try retryQuarantine() }
    }

    /// Closes the alarms about a site once its operator has looked at them; an origin held after an
    /// equivocation applies again.
    public func clearAlarms(site: SiteCode) throws -> Int {
        try withConnection { db in
            try db.run(
                "UPDATE _liaison_alarm SET state = 'cleared' WHERE code = ? AND state = 'open'", [.text(site.rawValue)])
            return db.changes
        }
    }

    /// Every site whose key this replica trusts, this one included.
    public func trustedSites() throws -> [TrustedSite] {
        try withConnection { db in
            try db.query(
                """
                SELECT s.site_id, s.code, s.public_key, i.site_id IS NOT NULL FROM _liaison_site s
                LEFT JOIN _liaison_introducer i ON i.site_id = s.site_id WHERE s.public_key IS NOT NULL ORDER BY s.code
                """
            ) {
                TrustedSite(
                    siteID: $0.text(0), site: $0.text(1), publicKey: $0.text(2),
                    fingerprint: SiteKey.fingerprint($0.text(2)), isIntroducer: $0.int(3) != 0)
            }
        }
    }

    /// Identity alarms, newest first (open ones unless `includeCleared`).
    public func alarms(includeCleared: Bool = false) throws -> [Alarm] {
        try withConnection { db in
            try db.query(
                """
                SELECT kind, site_id, code, message, via, first_seen, last_seen, count, state FROM _liaison_alarm
                \(includeCleared ? "" : "WHERE state = 'open'") ORDER BY id DESC
                """
            ) {
                Alarm(
                    kind: Alarm.Kind(rawValue: $0.text(0)) ?? .impersonation, siteID: $0.text(1), site: $0.text(2),
                    message: $0.text(3), via: $0.text(4), firstSeen: $0.text(5), lastSeen: $0.text(6), count: $0.int(7),
                    state: $0.text(8))
            }
        }
    }

    /// Keys peers presented for sites with none trusted here.
    public func untrustedKeys() throws -> [UntrustedKey] {
        try withConnection { db in
            try db.query("SELECT site_id, code, key, via, seen FROM _liaison_candidate ORDER BY code") {
                UntrustedKey(
                    siteID: $0.text(0), site: $0.text(1), key: $0.optionalText(2),
                    fingerprint: $0.optionalText(2).map(SiteKey.fingerprint), via: $0.text(3), seen: $0.text(4))
            }
        }
    }

    /// Records what a refused batch revealed, in its own transaction (the batch's rolled back).
    func recordNotice(of error: any Error, _ db: Connection) {
        guard let notice = (error as? LiaisonError)?.cause as? TrustNotice else { return }
        try? transaction(db) { try TrustStore(db: db).record(notice) }
    }

    /// Checks what a peer's status says about who it is against what the operator set: its site id,
    /// its code's binding and its key. A key nobody trusts yet is only noted (its transactions will
    /// be refused until the operator trusts it).
    public func checkPeerIdentity(
        peer name: String, siteID: String, site: String, key: String?, rotations: [KeyRotation]? = nil
    ) throws {
        try withConnection { db in
            guard SiteCode(site) != nil, TrustStore.isValidSiteID(siteID) else {
                throw LiaisonError(.peer, "peer \(name) answers with an invalid site code or id")
            }
            // A key rotated by the peer, signed by the key trusted here: follow it first.
            if let key, let rotations, let trusted = try TrustStore(db: db).trustedKey(of: siteID), trusted != key,
                (try? TrustStore(db: db).checkBinding(siteID: siteID, code: site, via: name)) != nil
            {
                try transaction(db) {
                    if try TrustStore(db: db).follow(rotations, of: siteID, code: site) == key {
                        try db.run("UPDATE _liaison_peer SET public_key = ? WHERE name = ?", [.text(key), .text(name)])
                    }
                }
            }
            let registered = try db.first(
                "SELECT site_id, public_key FROM _liaison_peer WHERE name = ?", [.text(name)],
                { ($0.optionalText(0), $0.optionalText(1)) })
            do {
                if let expected = registered?.0, expected != siteID {
                    throw TrustNotice.alarm(
                        .impersonation, siteID: siteID, code: site, via: name,
                        "peer \(name) was registered as site \(expected) but answers as site \(siteID) (\(site)); refused"
                    )
                }
                if let pinned = registered?.1, let key, pinned != key {
                    throw TrustNotice.alarm(
                        .impersonation, siteID: siteID, code: site, via: name,
                        "peer \(name) presents key \(SiteKey.fingerprint(key)), not the trusted \(SiteKey.fingerprint(pinned)); refused"
                    )
                }
                let store = TrustStore(db: db)
                try store.checkBinding(siteID: siteID, code: site, via: name)
                if let key {
                    if let trusted = try store.trustedKey(of: siteID), trusted != key {
                        throw TrustNotice.alarm(
                            .impersonation, siteID: siteID, code: site, via: name,
                            "\(site) presents key \(SiteKey.fingerprint(key)), not the trusted \(SiteKey.fingerprint(trusted)); refused"
                        )
                    }
                    try store.record(TrustNotice(kind: .candidate(key: key), siteID: siteID, code: site, via: name))
                }
            } catch let error as LiaisonError {
                recordNotice(of: error, db)
                throw error
            }
        }
    }
}
