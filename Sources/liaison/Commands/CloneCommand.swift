import ArgumentParser
import Foundation
import Liaison
import LiaisonClient

struct CloneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clone", abstract: "Create a replica filled from a peer, and register that peer.",
        discussion: """
            The source's key is trusted only when you say so: give --key and --site-id from its \
            'liaison identity', or compare the fingerprint clone prints with the one its operator reads \
            you and answer 'yes' (--trust-first-key skips the question, for scripts that checked it otherwise).
            """)

    @Argument(help: "The peer's URL, e.g. http://127.0.0.1:8080.") var url: String
    @Argument(help: "The new replica file.") var database: String
    @Option(help: "This agency's site code.") var site: String
    /// The secret token the peer registered for this agency (it signs requests; it never travels).
    @OptionGroup var token: TokenOption
    @Option(help: "The name to register the peer under (default: its site code).") var name: String?
    @Option(help: "The source's public key, from its 'liaison identity'.") var key: String?
    @Option(help: "The source's site id, from its 'liaison identity' (required with --key).") var siteId: String?
    @Flag(help: "Trust the key the source presents without asking (only where it was checked otherwise).")
    var trustFirstKey = false
    @Flag(help: "Trust the keys the source vouches for (the agencies it relays), as 'liaison trust --introducer' does.")
    var introducer = false
    @Option(help: "Scopes the source may receive from this replica (default public).") var read = "public"
    @Option(help: "Scopes the source may write into this replica, its data included (default public).")
    var write = "public"

    func validate() throws {
        guard SiteCode(site) != nil else { throw ValidationError("invalid site code '\(site)': \(SiteCode.rule)") }
        if (key == nil) != (siteId == nil) {
            throw ValidationError("--key and --site-id go together: both from the source's 'liaison identity'")
        }
        if key != nil && trustFirstKey { throw ValidationError("--trust-first-key and --key exclude each other") }
        try validateGrants(read, write)
    }

    func run() async throws {
        try await CLI.run {
            if FileManager.default.fileExists(atPath: database) { try startOverUnfinishedClone() }
            let token = try self.token.resolved()
            let ownID = UUID().uuidString.lowercased()
            var client = try PeerClient(url: url, token: token, from: ownID, to: siteId ?? "")
            let status = try await client.status()
            guard let sourceCode = SiteCode(status.site), let sourceKey = status.publicKey else {
                throw LiaisonError(.peer, "\(url) answers with an invalid site code or without a public key")
            }
            if let siteId, siteId != status.siteID {
                throw LiaisonError(
                    .identityConflict,
                    "\(url) answers as site \(status.siteID.prefix(64)), not the site id \(siteId) you gave; nothing was cloned"
                )
            }
            let trustedKey = try confirm(key: sourceKey, of: sourceCode, siteID: status.siteID)
            client.to = status.siteID
            let schema = try await client.schema()
            let replica = try Replica.create(at: database, site: SiteCode(site)!, schema: schema, siteID: ownID)
            let peerName = name ?? status.site
            do {
                try replica.beginClone(from: url)
                try replica.addPeer(
                    name: peerName, url: url, token: token, siteID: status.siteID, read: try Scope.parseGrant(read),
                    write: try Scope.parseGrant(write))
                try replica.trust(site: sourceCode, siteID: status.siteID, key: trustedKey)
                if introducer { try replica.setIntroducer(site: sourceCode, true) }
                let peer = try replica.peers().first { $0.name == peerName }!
                let report: SyncReport
                do {
                    report = try await SyncDriver(replica: replica).sync(with: peer)
                } catch let error as LiaisonError where error.code == .compactedHistory {
                    // The source compacted its log: start from its signed snapshot, then sync on.
                    let installed = try await client.cloneSnapshot(into: replica, from: peerName)
                    print(
                        "\(status.site) compacted its history: started from its signed snapshot (\(installed.transactions) "
                            + "transactions in \(installed.pages) pages, \(installed.gaps) removed runs, "
                            + "\(installed.rows) rows checked against the log)"
                    )
                    report = try await SyncDriver(replica: replica).sync(with: peer)
                }
                try replica.finishClone()
                print(
                    "cloned \(report.pulledTransactions) transactions (\(report.pulledChanges) changes) from \(status.site) into \(database); peer '\(peerName)' registered"
                )
            } catch let error as LiaisonError where error.code == .forbiddenScope {
                for suffix in ["", "-wal", "-shm", ".keys"] {
                    try? FileManager.default.removeItem(atPath: database + suffix)
                }
                throw LiaisonError(
                    .forbiddenScope,
                    error.message
                        + "; nothing was cloned: give the source the scopes of its data with --write (e.g. --write public,eu)"
                )
            } catch {
                for suffix in ["", "-wal", "-shm", ".keys"] {
                    try? FileManager.default.removeItem(atPath: database + suffix)
                }
                throw error
            }
        }
    }

    /// Removes a replica left by a clone that did not finish and holds nothing (a snapshot clone
    /// keeps nothing until it is complete), saying so; refuses any other existing file.
    private func startOverUnfinishedClone() throws {
        guard let unfinished = (try? Replica.open(at: database).unfinishedClone()) ?? nil else {
            throw LiaisonError(.invalidInput, "'\(database)' exists already; clone into a new file")
        }
        guard unfinished.transactions == 0 else {
            throw LiaisonError(
                .invalidInput,
                "'\(database)' is a clone from \(unfinished.source) that did not finish, and it holds "
                    + "\(unfinished.transactions) transactions or writes; nothing was changed: "
                    + "'liaison sync \(database)' goes on from where it stopped")
        }
        print(
            "'\(database)': the clone from \(unfinished.source) started \(unfinished.started) did not finish; "
                + "a clone keeps nothing until it is complete, so this one starts over")
        for suffix in ["", "-wal", "-shm", ".keys"] { try? FileManager.default.removeItem(atPath: database + suffix) }
    }

    /// The source's key once the user vouched for it: given with --key (it must match), accepted
    /// with --trust-first-key, or confirmed at the prompt after comparing fingerprints.
    private func confirm(key presented: String, of code: SiteCode, siteID: String) throws -> String {
        let fingerprint = Identity.fingerprint(of: presented)
        if let key {
            guard key == presented else {
                throw LiaisonError(
                    .identityConflict,
                    "\(code) presents key \(fingerprint), not the key you gave (\(Identity.fingerprint(of: key))); "
                        + "nothing was cloned: check the URL and the key with \(code)'s operator")
            }
            return key
        }
        guard Identity.isValidSiteID(siteID) else {
            throw LiaisonError(.peer, "the source answers with an invalid site id; nothing was cloned")
        }
        FileHandle.standardError.write(
            Data(
                "\(code) (site id \(siteID)) presents key fingerprint \(fingerprint).\nCompare it with the fingerprint \(code)'s operator reads from 'liaison identity'.\n"
                    .utf8))
        if trustFirstKey { return presented }
        FileHandle.standardError.write(Data("Trust this key? Type 'yes' to go on: ".utf8))
        let answer = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces).lowercased()
        guard answer == "yes" || answer == "y" else {
            throw LiaisonError(
                .invalidInput,
                "the key of \(code) was not confirmed; nothing was cloned. Give --key and --site-id from its "
                    + "'liaison identity', or answer 'yes' once the fingerprints match")
        }
        return presented
    }
}
