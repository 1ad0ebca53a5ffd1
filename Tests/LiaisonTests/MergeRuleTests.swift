import Liaison
import LiaisonProtocol
import Testing

/// The merge rule, table-driven: every pair of writes below is judged from both sides (as the two
/// replicas holding them would), and the rule must agree with itself and with causality.
@Suite struct MergeRuleTests {
    static let siteA = String(repeating: "a", count: 32)
    static let siteB = String(repeating: "b", count: 32)
    static let siteC = String(repeating: "c", count: 32)

    static func write(
        _ site: String, _ seq: Int64, hlc milliseconds: Int64, seen: [String: Int64] = [:], level: Int64 = 0
    ) -> CellWrite {
        CellWrite(
            site: site, code: "S-\(site.prefix(1).uppercased())", seq: seq,
            hlc: HybridTimestamp(milliseconds: milliseconds), context: VersionVector(seen), level: level)
    }

    /// A pair of writes of one cell and what the rule must decide.
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var a: CellWrite
        var b: CellWrite
        var policy: ConflictPolicy
        /// Whether `b` ends up as the cell's value (else `a`).
        var bWins: Bool
        var isConflict: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "concurrent, later clock wins", a: write(siteA, 1, hlc: 1_000), b: write(siteB, 1, hlc: 2_000),
            policy: .lww, bWins: true, isConflict: true),
        Case(
            name: "concurrent, same clock: higher site id wins", a: write(siteA, 3, hlc: 5_000),
            b: write(siteB, 1, hlc: 5_000), policy: .lww, bWins: true, isConflict: true),
        Case(
            name: "causally later wins with an earlier clock (skew)", a: write(siteA, 2, hlc: 9_000),
            b: write(siteB, 1, hlc: 1_000, seen: [siteA: 2]), policy: .lww, bWins: true, isConflict: false),
        Case(
            name: "causally later wins under owner-wins even at a lower level", a: write(siteA, 1, hlc: 1_000, level: 3),
            b: write(siteB, 4, hlc: 500, seen: [siteA: 1], level: 0), policy: .ownerWins, bWins: true,
            isConflict: false),
        Case(
            name: "same site, later seq wins without conflict", a: write(siteA, 7, hlc: 9_000),
            b: write(siteA, 8, hlc: 1_000), policy: .lww, bWins: true, isConflict: false),
        Case(
            name: "a write seen through a third site is not concurrent", a: write(siteC, 2, hlc: 8_000),
            b: write(siteB, 5, hlc: 2_000, seen: [siteA: 9, siteC: 3]), policy: .lww, bWins: true,
            isConflict: false),
        Case(
            name: "seen an older seq only: still concurrent", a: write(siteA, 4, hlc: 1_000),
            b: write(siteB, 2, hlc: 900, seen: [siteA: 3]), policy: .lww, bWins: false, isConflict: true),
        Case(
            name: "owner-wins: higher level wins whatever the clock", a: write(siteA, 1, hlc: 9_000, level: 1),
            b: write(siteB, 1, hlc: 1_000, level: 2), policy: .ownerWins, bWins: true, isConflict: true),
        Case(
            name: "owner-wins: equal levels fall back to the clock", a: write(siteA, 1, hlc: 3_000, level: 1),
            b: write(siteB, 1, hlc: 2_000, level: 1), policy: .ownerWins, bWins: false, isConflict: true),
        Case(
            name: "lww ignores levels", a: write(siteA, 1, hlc: 3_000, level: 5), b: write(siteB, 1, hlc: 4_000),
            policy: .lww, bWins: true, isConflict: true),
    ]

    @Test(arguments: cases)
    func decidesAsTheTableSays(_ row: Case) {
        // The replica holding a receives b, and the one holding b receives a.
        let atA = MergeRule.resolve(local: row.a, remote: row.b, policy: row.policy)
        let atB = MergeRule.resolve(local: row.b, remote: row.a, policy: row.policy)
        #expect(atA.takesRemote == row.bWins)
        #expect(atA.isConflict == row.isConflict)
        // Symmetry: the other side settles on the same value and records the same conflict.
        #expect(atB.takesRemote == !row.bWins)
        #expect(atB.isConflict == row.isConflict)
    }

    @Test(arguments: cases)
    func isIdempotent(_ row: Case) {
        // Receiving the cell's own write again changes nothing, and is never a conflict.
        for (write, policy) in [(row.a, row.policy), (row.b, row.policy)] {
            let again = MergeRule.resolve(local: write, remote: write, policy: policy)
            #expect(!again.takesRemote && !again.isConflict)
        }
        // Merging the winner into a replica that already took it keeps it.
        let winner = row.bWins ? row.b : row.a
        #expect(!MergeRule.resolve(local: winner, remote: winner, policy: row.policy).takesRemote)
    }

    @Test(arguments: cases)
    func winsIsAStrictOrderBetweenDistinctWrites(_ row: Case) {
        let ab = MergeRule.wins(row.a, over: row.b, policy: row.policy)
        let ba = MergeRule.wins(row.b, over: row.a, policy: row.policy)
        #expect(ab != ba)
        #expect(!MergeRule.wins(row.a, over: row.a, policy: row.policy))
    }

    /// Causally later always wins, without conflict, whatever the clocks, levels and site ids.
    @Test(arguments: ConflictPolicy.allCases, [Int64(-5_000), 0, 5_000])
    func causallyLaterAlwaysWins(policy: ConflictPolicy, clockOffset: Int64) {
        for (earlierSite, laterSite) in [(Self.siteA, Self.siteB), (Self.siteB, Self.siteA)] {
            let earlier = Self.write(earlierSite, 3, hlc: 10_000, level: 2)
            let later = Self.write(laterSite, 1, hlc: 10_000 + clockOffset, seen: [earlierSite: 3], level: 0)
            let atEarlier = MergeRule.resolve(local: earlier, remote: later, policy: policy)
            let atLater = MergeRule.resolve(local: later, remote: earlier, policy: policy)
            #expect(atEarlier.takesRemote && !atEarlier.isConflict)
            #expect(!atLater.takesRemote && !atLater.isConflict)
        }
    }

    /// Three concurrent writes of one cell settle on the same winner in every delivery order.
    @Test(arguments: ConflictPolicy.allCases)
    func everyDeliveryOrderSettlesOnOneWinner(policy: ConflictPolicy) {
        let writes = [
            Self.write(Self.siteA, 1, hlc: 2_000, level: 1), Self.write(Self.siteB, 1, hlc: 3_000),
            Self.write(Self.siteC, 1, hlc: 2_000, level: 1),
        ]
        let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
        let winners = Set(
            orders.map { order -> String in
                var cell = writes[order[0]]
                for index in order.dropFirst() {
                    let decision = MergeRule.resolve(local: cell, remote: writes[index], policy: policy)
                    #expect(decision.isConflict)
                    if decision.takesRemote { cell = writes[index] }
                }
                return cell.site
            })
        #expect(winners.count == 1)
        #expect(winners.first == (policy == .ownerWins ? Self.siteC : Self.siteB))
    }
}
