import CoreMetrics
import Foundation
import Liaison
import Logging

/// What one sync round with a peer moved.
public struct SyncReport: Sendable, Codable {
    public var peer: String
    public var pulledTransactions = 0
    public var pulledChanges = 0
    public var pushedTransactions = 0
    public var pushedChanges = 0
    public var pages = 0
    /// Transactions from this peer held in this replica's quarantine after the round.
    public var heldHere: [HeldTransaction] = []
    /// Transactions of this replica's traffic that the peer holds in its quarantine.
    public var heldThere: [HeldTransaction] = []
    public var seconds = 0.0
    public var error: String?

    public init(peer: String) { self.peer = peer }
}

/// Runs sync rounds: pull everything the peer has that this replica lacks, then push the reverse.
/// Cursors are stored in the replica after every page, so an interrupted round resumes.
public struct SyncDriver: Sendable {
    public let replica: Replica
    public var pageLimits: PageLimits
    public var logger: Logger
    /// Called after every page with the running report.
    public var progress: (@Sendable (SyncReport) -> Void)?
    /// Passed to every `PeerClient` the driver makes (to count wire bytes).
    public var onExchange: (@Sendable (PeerClient.Exchange) -> Void)?
    /// The largest clock difference adopted from a peer, in ms (default 24 h).
    public var maxClockOffset = PeerClient.defaultMaxClockOffset
    /// Whether pulls ask for the packed page form (docs/PROTOCOL.md, "The packed page"); a server
    /// that does not know it answers in the plain form, which is read as well.
    public var asksForPackedPages = true
    /// Whether pushes are sent in the packed form to a server whose status says it reads it
    /// (`forms`); to any other server they go plain.
    public var sendsPackedPushes = true

    public init(replica: Replica, pageLimits: PageLimits = PageLimits(), logger: Logger = Logger(label: "liaison.sync"))
    {
        self.replica = replica
        self.pageLimits = pageLimits
        self.logger = logger
    }

    /// One round with `peer`: pull, then push. Records the outcome in the replica.
    @discardableResult
    public func sync(with peer: PeerRecord) async throws -> SyncReport {
        var report = SyncReport(peer: peer.name)
        let started = ContinuousClock.now
        var client = try PeerClient(url: peer.url, token: peer.token, from: replica.siteID, to: peer.siteID ?? "")
        client.onExchange = onExchange
        client.schema = SchemaStamp(replica.schema)
        client.maxClockOffset = maxClockOffset
        do {
            let status = try await client.status()
            guard status.protocolVersion == liaisonProtocolVersion else {
                throw LiaisonError(
                    .schemaMismatch,
                    "peer \(peer.name) speaks protocol \(status.protocolVersion); this liaison speaks \(liaisonProtocolVersion)"
                )
            }
            guard status.schema == replica.schema.name, status.schemaVersion == replica.schema.version else {
                throw SchemaMajor.refusal(
                    peer: peer.name, theirs: (status.schema, status.schemaVersion),
                    ours: (replica.schema.name, replica.schema.version))
            }
            // Who answers must be who the operator registered; its key is checked, never trusted here.
            try await replica.perform {
                try $0.checkPeerIdentity(
                    peer: peer.name, siteID: status.siteID, site: status.site, key: status.publicKey,
                    rotations: status.rotations)
                if let heads = status.heads { try $0.compareHeads(heads, from: peer.name) }
            }
            client.to = status.siteID
            // Held transactions get another chance each round (a grant or key may have changed).
            try await replica.perform { try $0.retryQuarantine() }
            try await pull(from: client, peer: peer, report: &report)
            let packs = sendsPackedPushes && status.forms?.contains(PackedPage.form) == true
            let peerVector = try await push(to: client, peer: peer, packed: packs, report: &report)
            await exchangeAcknowledgements(with: client, peer: peer)
            report.heldHere = try await replica.perform { try $0.held(from: peer.name) }
            report.seconds = (ContinuousClock.now - started).seconds
            try await replica.perform { try $0.recordSync(peer: peer.name, siteID: status.siteID, error: nil) }
            try? await replica.perform {
                try $0.recordRound(peer: peer.name, direction: .outbound, error: nil, peerVector: peerVector)
            }
            SyncMetrics.roundDuration(ok: true).recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            // The fingerprints of the scopes both may read, compared and recorded (an alarm, never a repair).
            try? await DigestComparer(replica: replica, logger: logger).compare(with: peer, client: client, full: false)
            logger.debug(
                "sync round done", metadata: ["sync.peer": "\(peer.name)", "sync.pulled": "\(report.pulledChanges)"])
            return report
        } catch {
            let message = (error as? LiaisonError)?.message ?? "\(error)"
            try? await replica.perform { try $0.recordSync(peer: peer.name, siteID: nil, error: message) }
            try? await replica.perform {
                try $0.recordRound(peer: peer.name, direction: .outbound, error: message, peerVector: nil)
            }
            SyncMetrics.roundDuration(ok: false).recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            throw error
        }
    }

    func pull(from client: PeerClient, peer: PeerRecord, report: inout SyncReport) async throws {
        let cursor = try await replica.perform { replica in
            try replica.peers().first { $0.name == peer.name }?.pullCursor ?? "0"
        }
        let wanted = try await replica.perform { try $0.wantedTransactions() }
        let limit = pageLimits.maxChanges
        func request(
            after cursor: String, wanted: [WantedTransaction], heads: [String: SiteHead]? = nil,
            held: [HeldTransaction]? = nil
        ) async throws
            -> Task<PullResponse, any Error>
        {
            let vector = try await replica.perform { try $0.versionVector() }
            let form = asksForPackedPages ? PackedPage.form : nil
            return Task {
                try await client.pull(
                    PullRequest(
                        cursor: cursor, vector: vector, limit: limit, wanted: wanted.isEmpty ? nil : wanted,
                        heads: heads, held: held, form: form))
            }
        }
        // The first request tells the peer what this replica holds of its traffic, and why.
        let heldHere = try await replica.perform { try $0.held(from: peer.name) }
        var pending = try await request(
            after: cursor, wanted: wanted, heads: try await replica.perform { try $0.heads() }, held: heldHere)
        defer { pending.cancel() }
        var askedAgain = false
        while true {
            let page = try await pending.value
            let transactions = page.transactions
            let next = page.cursor
            let keys = page.keys
            // The next page is asked for before this one is applied, so the peer builds it while
            // this replica applies. Its vector may miss this page's transactions: pages never
            // overlap (the cursor moves past them), and anything sent twice is skipped.
            if page.hasMore { pending = try await request(after: next, wanted: []) }
            let applyStarted = ContinuousClock.now
            _ = try await replica.perform {
                try $0.apply(
                    transactions, keys: keys, writableScopes: peer.writeScopes, from: peer.name,
                    savingPullCursor: (peer.name, next))
            }
            SyncMetrics.applyDuration(.pull).recordNanoseconds((ContinuousClock.now - applyStarted).nanoseconds)
            report.pages += 1
            report.pulledTransactions += transactions.filter(\.isLastPiece).count
            report.pulledChanges += transactions.reduce(0) { $0 + $1.changes.count }
            progress?(report)
            if page.hasMore { continue }
            report.heldThere = page.held ?? []
            try await replica.perform { [held = report.heldThere] in try $0.recordPeerHeld(peer: peer.name, held) }
            // Rows that became readable in this round bring their earlier changes with them: ask
            // once more for what is still withheld.
            let stillWanted = try await replica.perform { try $0.wantedTransactions() }
            if askedAgain || stillWanted.isEmpty || page.transactions.isEmpty { break }
            askedAgain = true
            pending = try await request(after: next, wanted: stillWanted)
        }
    }

    /// Pushes what the peer lacks; returns the peer's vector after the last answer.
    private func push(to client: PeerClient, peer: PeerRecord, packed: Bool, report: inout SyncReport) async throws
        -> VersionVector
    {
        var vector = try await client.status().vector
        var cursor = try SyncCursor(
            parsing: try await replica.perform { replica in
                try replica.peers().first { $0.name == peer.name }?.pushCursor
            })
        let limits = pageLimits
        // Revocations travel even when no transaction does: at least one push a round carries them.
        var keyEventsSent = false
        while true {
            let excluded = vector
            let position = cursor
            let page = try await replica.perform {
                try $0.changes(after: position, excluding: excluded, limits: limits, readable: peer.readScopes)
            }
            let carriesRevocations = page.keys?.values.contains { $0.revocations != nil } == true
            if !page.transactions.isEmpty || (carriesRevocations && !keyEventsSent) {
                keyEventsSent = true
                let answer = try await client.push(
                    PushRequest(transactions: page.transactions, keys: page.keys), packed: packed)
                vector = answer.vector
                report.heldThere = answer.held ?? []
                try await replica.perform { [held = report.heldThere] in
                    try $0.recordPeerHeld(peer: peer.name, held)
                }
                report.pages += 1
                report.pushedTransactions += page.transactions.filter(\.isLastPiece).count
                report.pushedChanges += page.transactions.reduce(0) { $0 + $1.changes.count }
                progress?(report)
            }
            let next = page.cursor
            try await replica.perform { try $0.savePushCursor(peer: peer.name, cursor: next) }
            cursor = try SyncCursor(parsing: next)
            if !page.hasMore { break }
        }
        return vector
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
