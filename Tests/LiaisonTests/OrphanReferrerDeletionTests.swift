import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting
import Testing

/// An `orphan` conflict belongs to a live referrer: when the referrer is deleted, its orphan
/// records go, on every path (a merged deletion, this replica's own publish), except the one the
/// deleting transaction resolves. Before, a replica that met the referred row's deletion first
/// recorded the orphans and kept them after the referrer's deletion, while one that met the
/// referrer's deletion first never recorded them (the simulation's seed 69 with extra rounds).
/// Over real HTTP.
@Suite(.timeLimit(.minutes(2))) struct OrphanReferrerDeletionTests {
    /// NL deletes `org-x`; TR, not having seen it, adds a membership of it and then deletes the
    /// membership. BE meets NL's deletion first, FR TR's two transactions first: both end with
    /// the same (no) orphan records and the same rows.
    @Test func aReferrerDeletedLaterLeavesNoOrphanInEitherOrder() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            let be = try factory.make("BE-OCAM")
            let fr = try factory.make("FR-SGAE")
            try nl.write(author: "anne") {
                try $0.set("organisation", id: "org-x", ["name": "Body X", "kind": "forum"])
            }
            for other in [tr, be, fr] { try transfer(from: nl, to: other) }
            try nl.write(author: "anne") { _ = try $0.delete("organisation", id: "org-x", referrers: .orphan) }
            try tr.write(author: "emre") {
                try $0.set(
                    "membership", id: "mem-x", ["organisation_id": "org-x", "body_id": "org-x", "role": "member"])
            }
            _ = try tr.log()  // the membership's insert published before its deletion
            try tr.write(author: "emre") { _ = try $0.delete("membership", id: "mem-x", referrers: .refuse) }
            try await withServer(nl) { nlURL in
                try await withServer(tr) { trURL in
                    // BE: the referred row's deletion first, then the referrer and its deletion.
                    try await ArrivalOrder.sync(be, with: nl, url: nlURL)
                    try be.pinKey(of: tr.identity)
                    try await ArrivalOrder.sync(be, with: tr, url: trURL)
                    // FR: the referrer and its deletion first, then the referred row's deletion.
                    try fr.pinKey(of: nl.identity)
                    try fr.pinKey(of: tr.identity)
                    try await ArrivalOrder.sync(fr, with: tr, url: trURL)
                    try await ArrivalOrder.sync(fr, with: nl, url: nlURL)
                }
            }
            #expect(try be.row("membership", id: "mem-x") == nil && be.row("organisation", id: "org-x") == nil)
            let (atBE, atFR) = (try ArrivalOrder.summary(be), try ArrivalOrder.summary(fr))
            #expect(atBE == atFR, "BE \(atBE), FR \(atFR)")
            #expect(atBE.isEmpty)
            #expect(try be.dump() == fr.dump())
        }
    }

    /// The replica that recorded the orphan deletes the referrer itself: the record goes when it
    /// publishes, as on the replica that receives the deletion. A resolution that deletes the
    /// referrer (`--keep loser`) keeps its own conflict, resolved, on both.
    @Test func aReferrerDeletedWhereItsOrphanWasRecordedDropsItAtPublish() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            let tr = try factory.make("TR-TNP")
            try nl.write(author: "anne") {
                try $0.set("organisation", id: "org-y", ["name": "Body Y", "kind": "forum"])
                try $0.set("organisation", id: "org-z", ["name": "Body Z", "kind": "forum"])
            }
            try transfer(from: nl, to: tr)
            try nl.write(author: "anne") {
                _ = try $0.delete("organisation", id: "org-y", referrers: .orphan)
                _ = try $0.delete("organisation", id: "org-z", referrers: .orphan)
            }
            try tr.write(author: "emre") {
                try $0.set(
                    "membership", id: "mem-y", ["organisation_id": "org-y", "body_id": "org-y", "role": "member"])
                try $0.set(
                    "membership", id: "mem-z", ["organisation_id": "org-z", "body_id": "org-z", "role": "member"])
            }
            try await withServer(tr) { trURL in
                try await ArrivalOrder.sync(nl, with: tr, url: trURL)
                let orphans = try nl.conflicts().filter { $0.kind == .orphan }
                #expect(Set(orphans.map(\.rowID)) == ["mem-y", "mem-z"], "\(orphans)")
                // NL deletes mem-y itself, and resolves one orphan of mem-z by deleting mem-z.
                try nl.write(author: "anne") { _ = try $0.delete("membership", id: "mem-y", referrers: .refuse) }
                let kept = try #require(orphans.first { $0.rowID == "mem-z" })
                try nl.resolve(kept.id, .keepLoser, author: "anne")
                #expect(try ArrivalOrder.summary(nl) == ["\(kept.id) orphan mem-z.\(kept.column ?? "-") loser NL-NCTV#2 resolved"])
                try await ArrivalOrder.sync(nl, with: tr, url: trURL)
            }
            let (atTR, atNL) = (try ArrivalOrder.summary(tr), try ArrivalOrder.summary(nl))
            #expect(atTR == atNL, "TR \(atTR), NL \(atNL)")
            #expect(try tr.dump() == nl.dump())
        }
    }
}
