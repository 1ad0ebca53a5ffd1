import Foundation
import Liaison
import LiaisonTesting
import Testing

/// Two agencies that share the sample data and then edit apart.
struct TwoAgencies {
    let nl: Replica
    let ma: Replica

    init(_ factory: ReplicaFactory) throws {
        nl = try factory.make("NL-NCTV", sample: true)
        ma = try factory.make("MA-DGST")
        try transfer(from: nl, to: ma)
    }

    func syncBothWays() throws {
        try transfer(from: nl, to: ma)
        try transfer(from: ma, to: nl)
    }
}

@Suite struct ConflictTests {
    let action = "act-roadmap-early-detection"

    @Test func concurrentEditsOfOneColumnAreRecordedOnBothSides() async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            try pair.ma.write(author: "karim") {
                try $0.set("action", id: action, ["status": "in_progress", "due": "2018-01"])
            }
            try pair.nl.write(author: "anne") { try $0.set("action", id: action, ["status": "done"]) }
            try pair.syncBothWays()
            #expect(try pair.nl.dump() == pair.ma.dump())
            let row = try #require(try pair.nl.row("action", id: action))
            #expect(row["due"] == "2018-01")
            let onNL = try pair.nl.conflicts()
            let onMA = try pair.ma.conflicts()
            #expect(onNL.count == 1)
            #expect(onNL == onMA)
            let conflict = try #require(onNL.first)
            #expect(conflict.kind == .value && conflict.column == "status" && conflict.state == "open")
            #expect(Set([conflict.winner.value, conflict.loser.value]) == Set([.text("done"), .text("in_progress")]))
            #expect(Set([conflict.winner.author, conflict.loser.author]) == ["anne", "karim"])
            #expect(row["status"] == conflict.winner.value)
            // lww: the later timestamp wins, then the higher site id.
            #expect(
                conflict.winner.hlc > conflict.loser.hlc
                    || (conflict.winner.hlc == conflict.loser.hlc && conflict.winner.siteID > conflict.loser.siteID))
        }
    }

    @Test func causallyLaterWriteWinsWithoutConflict() async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            try pair.nl.write(author: "anne") { try $0.set("action", id: action, ["status": "done"]) }
            try pair.syncBothWays()
            try pair.ma.write(author: "karim") { try $0.set("action", id: action, ["status": "cancelled"]) }
            try pair.syncBothWays()
            #expect(try pair.nl.row("action", id: action)?["status"] == "cancelled")
            #expect(try pair.nl.conflicts().isEmpty && pair.ma.conflicts().isEmpty)
        }
    }

    @Test func editsOfDifferentColumnsBothSurvive() async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            try pair.nl.write(author: "anne") { try $0.set("action", id: action, ["status": "done"]) }
            try pair.ma.write(author: "karim") { try $0.set("action", id: action, ["due": "2019-01"]) }
            try pair.syncBothWays()
            let row = try #require(try pair.ma.row("action", id: action))
            #expect(row["status"] == "done" && row["due"] == "2019-01")
            #expect(try pair.nl.conflicts().isEmpty)
            #expect(try pair.nl.dump() == pair.ma.dump())
        }
    }

    @Test func resolutionSyncsAndClosesTheConflictEverywhere() async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            try pair.ma.write(author: "karim") { try $0.set("action", id: action, ["status": "in_progress"]) }
            try pair.nl.write(author: "anne") { try $0.set("action", id: action, ["status": "done"]) }
            try pair.syncBothWays()
            let conflict = try #require(try pair.nl.conflicts().first)
            try pair.nl.resolve(conflict.id, .keepLoser, author: "anne")
            #expect(try pair.nl.conflicts().isEmpty)
            #expect(try pair.ma.conflicts().count == 1)
            try pair.syncBothWays()
            #expect(try pair.ma.conflicts().isEmpty)
            #expect(try pair.ma.conflicts(includeResolved: true).first?.state == "resolved")
            #expect(try pair.ma.row("action", id: action)?["status"] == conflict.loser.value)
            #expect(try pair.nl.dump() == pair.ma.dump())
            #expect(try pair.nl.log().last?.resolves == [conflict.id])
            // Resolving twice is refused.
            #expect { try pair.nl.resolve(conflict.id, .keepWinner, author: "anne") } throws: {
                ($0 as? LiaisonError)?.code == .conflict
            }
        }
    }

    @Test func keepingTheWinnerStillTravelsAsATransaction() async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            try pair.ma.write(author: "karim") { try $0.set("action", id: action, ["status": "in_progress"]) }
            try pair.nl.write(author: "anne") { try $0.set("action", id: action, ["status": "done"]) }
            try pair.syncBothWays()
            let conflict = try #require(try pair.ma.conflicts().first)
            try pair.ma.resolve(conflict.id, .keepWinner, author: "karim")
            try pair.syncBothWays()
            #expect(try pair.nl.conflicts().isEmpty)
            #expect(try pair.nl.row("action", id: action)?["status"] == conflict.winner.value)
        }
    }

    @Test(arguments: [false, true])
    func deleteAgainstConcurrentUpdateKeepsTheRow(deleterSyncsFirst: Bool) async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            try pair.nl.write(author: "anne") { try $0.delete("action", id: action) }
            try pair.ma.write(author: "karim") { try $0.set("action", id: action, ["status": "in_progress"]) }
            if deleterSyncsFirst {
                try transfer(from: pair.nl, to: pair.ma)
                try transfer(from: pair.ma, to: pair.nl)
            } else {
                try transfer(from: pair.ma, to: pair.nl)
                try transfer(from: pair.nl, to: pair.ma)
            }
            #expect(try pair.nl.dump() == pair.ma.dump())
            let row = try #require(try pair.nl.row("action", id: action))
            #expect(row["status"] == "in_progress")
            #expect(row["title"] != nil && row["title"] != .null)
            let conflicts = try pair.nl.conflicts()
            #expect(conflicts.count == 1 && conflicts.first?.kind == .delete)
            #expect(conflicts.map(\.id) == (try pair.ma.conflicts().map(\.id)))
            // keep loser: the deletion is carried out now, and it has seen the update.
            try pair.ma.resolve(try #require(conflicts.first).id, .keepLoser, author: "karim")
            try pair.syncBothWays()
            #expect(try pair.nl.row("action", id: action) == nil)
            #expect(try pair.nl.conflicts().isEmpty)
            #expect(try pair.nl.dump() == pair.ma.dump())
        }
    }

    @Test func deleteThatHadSeenTheUpdateWins() async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            try pair.ma.write(author: "karim") { try $0.set("action", id: action, ["status": "in_progress"]) }
            try pair.syncBothWays()
            try pair.nl.write(author: "anne") { try $0.delete("action", id: action) }
            try pair.syncBothWays()
            #expect(try pair.ma.row("action", id: action) == nil)
            #expect(try pair.ma.conflicts().isEmpty && pair.nl.conflicts().isEmpty)
        }
    }

    @Test(arguments: [false, true])
    func referenceToAConcurrentlyDeletedRowIsKeptAsOrphan(deleterSyncsFirst: Bool) async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            try pair.nl.write(author: "anne") { try $0.delete("organisation", id: "org-fatf") }
            try pair.ma.write(author: "karim") {
                try $0.set(
                    "membership", id: "mem-ma-fatf",
                    ["organisation_id": "org-ma", "body_id": "org-fatf", "role": "member"])
            }
            if deleterSyncsFirst {
                try transfer(from: pair.nl, to: pair.ma)
                try transfer(from: pair.ma, to: pair.nl)
            } else {
                try transfer(from: pair.ma, to: pair.nl)
                try transfer(from: pair.nl, to: pair.ma)
            }
            #expect(try pair.nl.dump() == pair.ma.dump())
            #expect(try pair.nl.row("membership", id: "mem-ma-fatf") != nil)
            #expect(try pair.nl.row("organisation", id: "org-fatf") == nil)
            let orphans = try pair.nl.conflicts().filter { $0.kind == .orphan }
            #expect(orphans.count == 1)
            #expect(orphans.first?.rowID == "mem-ma-fatf" && orphans.first?.column == "body_id")
            #expect(orphans.map(\.id) == (try pair.ma.conflicts().filter { $0.kind == .orphan }.map(\.id)))
            try pair.nl.resolve(try #require(orphans.first).id, .value("org-gctf"), author: "anne")
            try pair.syncBothWays()
            #expect(try pair.ma.row("membership", id: "mem-ma-fatf")?["body_id"] == "org-gctf")
            #expect(try pair.ma.conflicts().isEmpty)
        }
    }

    @Test func sameIdCreatedTwiceMergesColumnByColumn() async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            try pair.nl.write(author: "anne") {
                try $0.set("topic", id: "topic-prisons", ["name": "Prisons", "description": "NL text"])
            }
            try pair.ma.write(author: "karim") { try $0.set("topic", id: "topic-prisons", ["name": "Prisons"]) }
            try pair.syncBothWays()
            #expect(try pair.nl.dump() == pair.ma.dump())
            #expect(try pair.nl.conflicts() == pair.ma.conflicts())
        }
    }

    @Test func sameBodyCreatedTwiceUnderDifferentIdsIsADuplicateThatResolveMerges() async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            try pair.nl.write(author: "anne") {
                try $0.set(
                    "organisation", id: "org-hedayah-nl", ["name": "Hedayah", "kind": "international_organisation"])
                try $0.set(
                    "membership", id: "mem-nl-hedayah",
                    ["organisation_id": "org-nl", "body_id": "org-hedayah-nl", "role": "member"])
            }
            try pair.ma.write(author: "karim") {
                try $0.set(
                    "organisation", id: "org-hedayah", ["name": "Hedayah", "kind": "international_organisation"])
            }
            try pair.syncBothWays()
            let duplicates = try pair.nl.conflicts().filter { $0.kind == .duplicate }
            #expect(duplicates.count == 1)
            #expect(duplicates.map(\.id) == (try pair.ma.conflicts().filter { $0.kind == .duplicate }.map(\.id)))
            let duplicate = try #require(duplicates.first)
            #expect(duplicate.winner.value == "org-hedayah" && duplicate.loser.value == "org-hedayah-nl")
            try pair.ma.resolve(duplicate.id, .keepWinner, author: "karim")
            try pair.syncBothWays()
            #expect(try pair.nl.row("organisation", id: "org-hedayah-nl") == nil)
            #expect(try pair.nl.row("membership", id: "mem-nl-hedayah")?["body_id"] == "org-hedayah")
            #expect(try pair.nl.conflicts().isEmpty)
            #expect(try pair.nl.dump() == pair.ma.dump())
        }
    }

    @Test func ownerWinsPolicyPrefersTheOwningAgency() async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            // agreement is owner-wins; the sample rows are owned by NL-NCTV.
            try pair.nl.write(author: "anne") {
                try $0.set("agreement", id: "agr-eu-ct-directive", ["status": "agreed"])
            }
            try pair.ma.write(author: "karim") {
                try $0.set("agreement", id: "agr-eu-ct-directive", ["status": "draft"])
            }
            try pair.syncBothWays()
            #expect(try pair.nl.row("agreement", id: "agr-eu-ct-directive")?["status"] == "agreed")
            let conflict = try #require(try pair.ma.conflicts().first)
            #expect(conflict.policy == .ownerWins && conflict.winner.site == "NL-NCTV")
        }
    }
}
