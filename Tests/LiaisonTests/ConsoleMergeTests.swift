import Foundation
import Liaison
import LiaisonConsole
import LiaisonTesting
import Testing

/// Merging a text cell (issue 14, point 2): three agencies rewrite one description offline, a
/// reviewer on NL merges every side in the console with a note, and the one resolution closes
/// every conflict on that cell at NL and at the agencies that apply it.
@Suite(.timeLimit(.minutes(3))) struct ConsoleMergeTests {
    static let topic = "topic-cve"

    /// NL, MA and FR each rewrite the topic's description; NL receives both others.
    static func threeWayEdit(_ factory: ReplicaFactory) throws -> (nl: Replica, ma: Replica, fr: Replica) {
        let nl = try factory.make("NL-NCTV", sample: true)
        let ma = try factory.make("MA-DGST")
        let fr = try factory.make("FR-DGSI")
        try transfer(from: nl, to: ma)
        try transfer(from: nl, to: fr)
        let base = try #require(try nl.row("topic", id: topic)?["description"]?.displayText)
        try nl.write(author: "anne") { try $0.set("topic", id: topic, ["description": .text(base + " NL adds the EU angle.")]) }
        try ma.write(author: "karim") { try $0.set("topic", id: topic, ["description": .text(base + " MA adds Rabat.")]) }
        try fr.write(author: "élodie") { try $0.set("topic", id: topic, ["description": .text(base + " <b>FR</b> adds Paris.")]) }
        try transfer(from: ma, to: nl)
        try transfer(from: fr, to: nl)
        return (nl, ma, fr)
    }

    @Test func aReviewerMergesEverySideOfACellWithOneSignedResolution() async throws {
        try await withReplicas { factory in
            let (nl, ma, fr) = try Self.threeWayEdit(factory)
            let open = try nl.conflicts().filter { $0.table == "topic" && $0.column == "description" }
            #expect(open.count == 2, "each pair the merge rule met is a conflict: \(open.map(\.id))")
            let first = try #require(open.first)
            #expect(Set(try nl.openConflictsOnCell(of: first.id).map(\.id)) == Set(open.map(\.id)))
            try await withConsole(nl) { port, token in
                let console = try await ConsoleBrowser.logIn(port: port, token: token)
                let page = try await console.get("/conflict?id=\(first.id)")
                #expect(page.status == 200 && page.text.contains("id=\"keep-merged\""))
                // Every side with its agency, escaped; the draft keeps each agency's addition once.
                #expect(page.text.contains("FR-DGSI") && page.text.contains("MA-DGST") && page.text.contains("élodie"))
                #expect(page.text.contains("&lt;b&gt;FR&lt;/b&gt;") && !page.text.contains("<b>FR</b>"))
                let draft = try #require(
                    page.text.firstMatch(of: /<textarea id="merged-value" name="merged"[^>]*>([^<]*)<\/textarea>/)
                        .map { String($0.1) })
                for addition in ["NL adds the EU angle.", "MA adds Rabat.", "&lt;b&gt;FR&lt;/b&gt; adds Paris."] {
                    #expect(draft.components(separatedBy: addition).count == 2, "\(addition) once in: \(draft)")
                }

                // A merge of a choice column is not offered; a bad value writes nothing.
                let before = try nl.log().count
                let forged = try await console.post(
                    "/conflict?id=\(first.id)", "csrf=\(String(repeating: "1", count: 64))&choice=merge&merged=x")
                #expect(forged.status == 403)
                #expect(try nl.log().count == before && nl.conflicts().count == open.count)

                let merged = "Merged: EU angle (NL), Rabat (MA) and Paris (FR).\r\nSecond line."
                let answer = try await console.post(
                    "/conflict?id=\(first.id.prefix(8))",
                    "csrf=\(console.csrf)&choice=merge&merged=\(merged.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&note=All+three+agree")
                #expect(answer.status == 303)
                let shown = try await console.get("/conflict?id=\(first.id)")
                #expect(shown.text.contains("Merged 2 conflict(s) on this cell"), "\(shown.text)")
                #expect(shown.text.contains("id=\"conflict-state\">resolved"))
            }
            #expect(try nl.conflicts().isEmpty)
            let written = "Merged: EU angle (NL), Rabat (MA) and Paris (FR).\nSecond line."
            #expect(try nl.row("topic", id: Self.topic)?["description"] == .text(written))
            // One transaction resolves both, each with the note, signed by the console's author.
            let last = try #require(try nl.log().last)
            #expect(last.author == "console-tester")
            for conflict in open {
                let resolution = try #require(try nl.resolution(of: conflict.id))
                #expect(resolution.note == "All three agree" && resolution.seq == last.seq)
            }
            // MA and FR apply it: every conflict on the cell they hold closes, and all converge.
            try transfer(from: nl, to: ma)
            try transfer(from: nl, to: fr)
            try transfer(from: fr, to: ma)
            try transfer(from: ma, to: fr)
            for replica in [ma, fr] {
                #expect(try replica.row("topic", id: Self.topic)?["description"] == .text(written))
                #expect(try replica.conflicts().filter { $0.table == "topic" }.isEmpty)
            }
            #expect(try nl.dump() == ma.dump())
        }
    }

    @Test func onlyAnOpenTextConflictCanBeMerged() async throws {
        try await withReplicas { factory in
            let pair = try TwoAgencies(factory)
            let action = "act-roadmap-early-detection"
            try pair.nl.write(author: "anne") { try $0.set("action", id: action, ["status": "in_progress"]) }
            try pair.ma.write(author: "karim") { try $0.set("action", id: action, ["status": "done"]) }
            try pair.syncBothWays()
            let conflict = try #require(try pair.nl.conflicts().first)
            try await withConsole(pair.nl) { port, token in
                let console = try await ConsoleBrowser.logIn(port: port, token: token)
                let page = try await console.get("/conflict?id=\(conflict.id)")
                #expect(page.status == 200 && !page.text.contains("keep-merged"), "a choice takes one value")
            }
            // The engine refuses a value that does not fit the column and writes nothing.
            let before = try pair.nl.log().count
            #expect(throws: LiaisonError.self) {
                try pair.nl.resolveMerged(conflict.id, value: .text("in_progress and done"), author: "x")
            }
            #expect(try pair.nl.log().count == before && pair.nl.conflicts().count == 1)
            try pair.nl.resolveMerged(conflict.id, value: .text("cancelled"), author: "x", note: "neither")
            #expect(throws: LiaisonError.self) { try pair.nl.resolveMerged(conflict.id, value: .text("done"), author: "x") }
            #expect(try pair.nl.resolution(of: conflict.id)?.note == "neither")
        }
    }

    @Test(arguments: [
        (nil, ["Same", "Same"], "Same"),
        ("Base.", ["Base. One.", "Base. Two."], "Base. One. Two."),
        ("end", ["A end", "B end"], "A B end"),
        ("x", ["Short", "Short and longer"], "Short and longer"),
        (nil, ["line 1\nshared", "shared\nline 2"], "line 1\nshared\nline 2"),
        ("Sécurité", ["Sécurité NL", "Sécurité المغرب"], "Sécurité NL المغرب"),
    ] as [(String?, [String], String)])
    func aMergeDraftKeepsEachSidesAdditionOnce(base: String?, sides: [String], expected: String) {
        #expect(MergeDraft.text(base: base, sides: sides) == expected)
    }
}
