import Foundation
import Liaison
import Synchronization

/// A randomized run of several replicas: random inserts, updates, deletes and resolutions, random
/// sync pairs and order, tiny pages, duplicated, interrupted and re-sent batches. Afterwards every
/// replica syncs with every other, and `verify()` checks what must hold whatever happened.
///
/// Replicas have grants: the first two read and write every scope and alone move, delete and
/// re-create the shared rows (random scope moves among `public`, `gctf` and `eu`); the third may
/// read and write `public` and `gctf`, the others `public` only, and they relay for each other.
/// Every page a replica is sent is checked: no value of a change in a scope it may not read.
///
/// Quarantine takes part (`ConvergenceSimulation+Quarantine.swift`): in half the seeds the last
/// replica does not trust the fourth's key until a random step, so what comes from that origin is
/// held (`untrusted_key`) and what depends on it waits behind; a rogue site outside the replicas
/// pushes a transaction it signed with a value the receivers' rules reject; pages from relays
/// lacking a scope are held where they would write outside the relay's grant. After the final
/// sync nothing is held but the rogue's transactions, which the operator drops.
///
/// Uses real SQLite files and the same pages the HTTP protocol carries, without a network, so many
/// seeds run quickly. A failure names its seed; `LIAISON_SEED=N` replays it.
public final class ConvergenceSimulation {
    public let seed: UInt64
    public let replicas: [Replica]
    private var random: SeededGenerator
    /// Decisions added with quarantine, drawn apart so the steps above stay those of each seed.
    var extra: SeededGenerator
    /// A site outside the replicas whose signed transactions the replicas' rules reject.
    let rogue: Replica
    /// Whether the last replica distrusts the fourth's key until `trustLate()` runs.
    var distrustsKey: Bool
    /// Every transaction held on any replica during the run, as `replica|CODE#SEQ|reason`.
    public internal(set) var heldSeen: Set<String> = []
    /// The rogue's transactions pushed, as `CODE#SEQ` (held wherever they land).
    var rogueSent: Set<String> = []
    private let time: SimulatedTime
    private var sentPages: [(to: Int, page: PullResponse)] = []
    /// What each replica may read and write (`nil` for every scope).
    public let grants: [Set<String>?]
    private var nextID = 0
    /// What happened, for the failure message.
    public internal(set) var trace: [String] = []
    /// Batches refused for their scopes (a relay lacking a scope), for the failure message.
    public internal(set) var refusals: [String] = []
    /// Schema changes, replicas granting late (`ConvergenceSimulation+Schema.swift`).
    public internal(set) var schemaPlan = SimulationSchemaPlan()
    /// Runs after every random step (compaction: `ConvergenceSimulation+Compaction.swift`).
    var afterStep: (() throws -> Void)?
    /// Runs after `afterStep`: extra sync rounds (`LIAISON_SIM_ROUNDS=1`, `ConvergenceSimulation+Rounds.swift`).
    var roundStep: (() throws -> Void)?
    /// `schemaChanges`: sites also change the schema (`ConvergenceSimulation+Schema.swift`).
    public init(seed: UInt64, replicaCount: Int = 5, directory: URL, schemaChanges: Bool = false) throws {
        self.seed = seed
        self.random = SeededGenerator(seed: seed)
        var extra = SeededGenerator(seed: seed &+ 0x5157_4e44)
        self.distrustsKey = Bool.random(using: &extra)
        self.extra = extra
        let time = SimulatedTime(1_800_000_000_000)
        self.time = time
        var made: [Replica] = []
        for index in 0..<replicaCount {
            let skew = Int64(index) * 7_000 - 14_000
            let clock = HybridClock(maximumDrift: .seconds(300)) { time.now + skew }
            made.append(
                try Replica.create(
                    at: directory.appendingPathComponent("sim-\(index).db").path, site: SiteCode("SITE-\(index)")!,
                    siteID: String(format: "00000000-0000-4000-8000-%012d", index), clock: clock))
        }
        replicas = made
        grants = (0..<replicaCount).map { index in
            switch index {
            case 0, 1: nil
            case 2: ["public", "gctf"]
            default: ["public"]
            }
        }
        rogue = try Replica.create(
            at: directory.appendingPathComponent("sim-rogue.db").path, site: SiteCode("XX-ROGUE")!,
            siteID: "00000000-0000-4000-8000-999999999999", clock: HybridClock(maximumDrift: .seconds(300)) { time.now }
        )
        try replicas[0].write(author: "seed") { editor in
            for index in 0..<3 {
                try editor.set("organisation", id: "org-\(index)", ["name": .text("Body \(index)"), "kind": "forum"])
                try editor.set("topic", id: "topic-\(index)", ["name": .text("Topic \(index)")])
                try editor.set(
                    "agreement", id: "agr-\(index)", ["title": .text("Agreement \(index)"), "kind": "roadmap"])
            }
        }
        for replica in replicas.dropFirst() { try transfer(from: replicas[0], to: replica) }
        for replica in replicas {
            try replica.pinKey(of: rogue.identity)
            for other in replicas where other !== replica {
                // The last replica's operator has not compared the fourth's fingerprint yet.
                if distrustsKey, replica === replicas.last, other === replicas[3] { continue }
                try replica.pinKey(of: other.identity)
            }
        }
        if schemaChanges { try setUpSchemaChanges() }
        if Self.roundsRequested { syncRoundsAtRandom() }
    }

    /// Runs `steps` random steps, then syncs everyone to quiescence.
    public func run(steps: Int) throws {
        for _ in 0..<steps {
            time.advance(by: Int64.random(in: 0...40, using: &random))
            let roll = Int.random(in: 0..<100, using: &random)
            let rare = Int.random(in: 0..<100, using: &extra)
            if rare < 2 { try pushInvalid() } else if rare == 2, distrustsKey { try trustLate() }
            if (3..<12).contains(rare) { try schemaStep() }
            switch roll {
            case 0..<45: try edit()
            case 45..<52: try resolveSomething()
            case 52..<92: try syncPair()
            default: try resend()
            }
            try afterStep?()
            try roundStep?()
        }
        if distrustsKey { try trustLate() }
        try learnSchemaLate()
        try settle()
    }

    // MARK: - Steps

    private func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &random)] }

    private func edit() throws {
        let index = Int.random(in: 0..<replicas.count, using: &random)
        let replica = replicas[index]
        let kind = Int.random(in: 0..<12, using: &random)
        let author = "user-\(index)"
        let full = grants[index] == nil
        do {
            try replica.write(author: author) { editor in
                if !full {
                    try editOwnRows(editor, index: index, kind: kind)
                    return
                }
                switch kind {
                case 0..<3:
                    let id = "topic-\(Int.random(in: 0..<5, using: &random))"
                    let column = pick(["name", "description"])
                    try editor.set("topic", id: id, [column: .text("\(column) by \(index) #\(self.bump())")])
                case 3..<5:
                    let id = "agr-\(Int.random(in: 0..<3, using: &random))"
                    if try editor.row("agreement", id: id) != nil {
                        try editor.set("agreement", id: id, ["status": .text(pick(["draft", "agreed", "in_force"]))])
                    }
                case 5:
                    let id = "org-\(Int.random(in: 0..<3, using: &random))"
                    try editor.set("organisation", id: id, ["country": .text(pick(["NL", "MA", "TR", "BE"]))])
                case 6:
                    let body = "org-\(Int.random(in: 0..<3, using: &random))"
                    if try editor.row("organisation", id: body) != nil {
                        try editor.set(
                            "membership", id: "mem-\(index)-\(self.bump())",
                            ["organisation_id": .text(body), "body_id": .text(body), "role": "member"])
                    }
                case 7:
                    try editor.delete(
                        pick(["topic", "organisation", "agreement"]),
                        id: pick(["topic-", "org-", "agr-"]) + "\(Int.random(in: 0..<3, using: &random))")
                case 8, 9:
                    // A move (or, for a deleted row, nothing): the whole row goes to another scope.
                    let (table, id) = pick([
                        ("topic", "topic-\(Int.random(in: 0..<5, using: &random))"),
                        ("organisation", "org-\(Int.random(in: 0..<3, using: &random))"),
                        ("agreement", "agr-\(Int.random(in: 0..<3, using: &random))"),
                    ])
                    if try editor.row(table, id: id) != nil {
                        try editor.set(table, id: id, ["scope": .text(pick(Self.scopes))])
                    }
                default:
                    // Re-creates a deleted id, or rewrites the row, in a random scope.
                    let id = "topic-\(Int.random(in: 0..<5, using: &random))"
                    try editor.set(
                        "topic", id: id,
                        [
                            "name": .text("Same \(id)"), "description": .text("from \(index)"),
                            "scope": .text(pick(Self.scopes)),
                        ])
                }
            }
        } catch let error as LiaisonError where error.code == .typeMismatch || error.code == .invalidInput {
            // A reference to a row deleted here, or a new row without its required columns: refused, nothing written.
        }
        trace.append("edit \(kind) at \(index)")
    }

    static let scopes = ["public", "gctf", "eu"]

    /// A replica with a partial grant edits, moves and deletes only its own rows, within its grant,
    /// and adds memberships to bodies it holds (in the body's scope).
    private func editOwnRows(_ editor: Editor, index: Int, kind: Int) throws {
        let grant = grants[index]!.sorted()
        let id = "topic-p\(index)-\(Int.random(in: 0..<3, using: &random))"
        switch kind {
        case 0..<5:
            let column = pick(["name", "description"])
            if try editor.row("topic", id: id) != nil {
                try editor.set("topic", id: id, [column: .text("\(column) by \(index) #\(bump())")])
            } else {
                try editor.set("topic", id: id, ["name": .text("Own \(id) #\(bump())"), "scope": .text(pick(grant))])
            }
        case 5, 6:
            if try editor.row("topic", id: id) != nil { try editor.set("topic", id: id, ["scope": .text(pick(grant))]) }
        case 7:
            try editor.delete("topic", id: id)
        default:
            let body = "org-\(Int.random(in: 0..<3, using: &random))"
            if try editor.row("organisation", id: body) != nil {
                try editor.set(
                    "membership", id: "mem-\(index)-\(bump())",
                    ["organisation_id": .text(body), "body_id": .text(body), "role": "member"])
            }
        }
    }

    private func bump() -> Int {
        nextID += 1
        return nextID
    }

    private func resolveSomething() throws {
        let index = Int.random(in: 0..<replicas.count, using: &random)
        let open = try replicas[index].conflicts().filter {
            // A replica with a partial grant settles conflicts on its own rows only.
            grants[index] == nil || $0.rowID.hasPrefix("topic-p\(index)-")
        }
        guard !open.isEmpty else { return }
        let conflict = pick(open)
        let choice: ConflictChoice = Bool.random(using: &random) ? .keepWinner : .keepLoser
        do {
            try replicas[index].resolve(conflict.id, choice, author: "resolver-\(index)")
            trace.append("resolve \(conflict.id) at \(index)")
        } catch let error as LiaisonError
            where error.code == .conflict || error.code == .typeMismatch || error.code == .invalidInput
        {
            // Refused with nothing written: e.g. keeping a loser that hands the row to a site that does not own it.
            trace.append("resolve refused at \(index): \(error.message)")
        }
    }

    private func syncPair() throws {
        let from = Int.random(in: 0..<replicas.count, using: &random)
        var to = Int.random(in: 0..<replicas.count - 1, using: &random)
        if to >= from { to += 1 }
        let limits = PageLimits(maxChanges: Int.random(in: 1...6, using: &random), maxBytes: 1_024)
        let interruptAfter = Bool.random(using: &random) ? Int.random(in: 1...3, using: &random) : Int.max
        var cursor = SyncCursor.start
        var pages = 0
        var wanted = try replicas[to].wantedTransactions()
        while pages < interruptAfter {
            let page = try replicas[from].changes(
                after: cursor, excluding: try replicas[to].versionVector(), limits: limits, readable: grants[to],
                wanted: wanted)
            wanted = []
            try checkSent(page, to: to)
            guard try deliver(page, from: from, to: to) else {
                trace.append("sync \(from)->\(to) refused after \(pages) pages")
                return
            }
            if Int.random(in: 0..<5, using: &random) == 0 { _ = try deliver(page, from: from, to: to) }
            sentPages.append((to, page))
            pages += 1
            cursor = try SyncCursor(parsing: page.cursor)
            if !page.hasMore { break }
        }
        trace.append("sync \(from)->\(to) \(pages) pages\(pages == interruptAfter ? " (cut)" : "")")
    }

    private func resend() throws {
        guard !sentPages.isEmpty else { return }
        // A page goes again to the replica it was made for, or to one that may read everything
        // (without the outlines made for the first).
        var (target, page) = pick(sentPages)
        let index = Bool.random(using: &random) ? target : Int.random(in: 0..<2, using: &random)
        if index != target {
            // Outlines go only to a replica that may not read their changes: one that may would
            // drop a row it is about to receive whole. An honest sender builds none for it.
            for position in page.transactions.indices { page.transactions[position].evictions = nil }
        }
        let before = try replicas[index].dump()
        let vector = try replicas[index].versionVector()
        do {
            _ = try replicas[index].apply(page.transactions, keys: page.keys, writableScopes: ["public"])
            trace.append("resend \(page.transactions.count) to \(index)")
        } catch let error as LiaisonError where error.code == .invalidTransaction || error.code == .forbiddenScope {
            // Out of causal order for this replica: refused whole.
            guard try replicas[index].dump() == before, try replicas[index].versionVector() == vector else {
                throw SimulationFailure(seed: seed, message: "a refused batch changed replica \(index)", trace: trace)
            }
            trace.append("resend refused at \(index)")
        }
    }

    /// Syncs every pair until nothing moves.
    public func settle() throws {
        for _ in 0..<(replicas.count * 2) {
            var moved = 0
            for a in replicas.indices {
                for b in replicas.indices where a != b { moved += try settle(from: a, to: b) }
            }
            if moved == 0 { return }
        }
    }
}

/// A broken invariant, with the seed that replays it.
public struct SimulationFailure: Error, CustomStringConvertible {
    public var seed: UInt64
    public var message: String
    public var trace: [String]

    public var description: String {
        "seed \(seed): \(message)\nreplay with LIAISON_SEED=\(seed) swift test --filter Simulation\nlast steps: "
            + trace.suffix(Int(ProcessInfo.processInfo.environment["LIAISON_SIM_TRACE"] ?? "") ?? 12).joined(
                separator: "; ")
    }
}

/// A wall clock shared by the simulated replicas, moved forward by the simulation.
final class SimulatedTime: Sendable {
    private let milliseconds: Mutex<Int64>

    init(_ start: Int64) { milliseconds = Mutex(start) }

    var now: Int64 { milliseconds.withLock { $0 } }

    func advance(by delta: Int64) { milliseconds.withLock { $0 += delta } }
}
