import Foundation
import Liaison
import LiaisonConsole
import LiaisonTesting
import Testing

/// Table pages done in SQL (search, filters, sort, window) and durations read the same everywhere.
@Suite struct ConsoleQueryTests {
    @Test func aTablePageIsFilteredSortedAndCutInSQL() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            try nl.write(author: "seed") { editor in
                for index in 0..<120 {
                    try editor.set(
                        "topic", id: String(format: "t-%03d", index),
                        ["name": .text("Topic \(index % 7 == 0 ? "Radical" : "plain") \(119 - index)")])
                }
                try editor.set("topic", id: "t-pct", ["name": "100% literal_match"])
            }
            let first = try nl.rows("topic", matching: RowQuery(limit: 50))
            #expect(first.total == 121 && first.rows.count == 50)
            #expect(first.rows.first?["id"] == "t-000" && first.rows.last?["id"] == "t-049")
            let last = try nl.rows("topic", matching: RowQuery(limit: 50, offset: 100))
            #expect(last.rows.count == 21 && last.rows.last?["id"] == "t-pct")

            // Search is case-insensitive and takes % and _ literally.
            let radical = try nl.rows("topic", matching: RowQuery(search: "radical", limit: 5))
            #expect(radical.total == 18 && radical.rows.count == 5)
            #expect(radical.rows.allSatisfy { $0["name"]?.displayText.contains("Radical") == true })
            #expect(try nl.rows("topic", matching: RowQuery(search: "0%")).rows.map { $0["id"] } == ["t-pct"])
            #expect(try nl.rows("topic", matching: RowQuery(search: "l_m")).rows.map { $0["id"] } == ["t-pct"])

            let byName = try nl.rows("topic", matching: RowQuery(sort: "name", descending: true, limit: 3))
            #expect(byName.rows.map { $0["id"] } == ["t-021", "t-028", "t-035"], "\(byName.rows)")
            let filtered = try nl.rows("topic", matching: RowQuery(filters: ["name": "Topic plain 1"]))
            #expect(filtered.rows.map { $0["id"] } == ["t-118"])

            // Only the table's own columns: a typo gets "did you mean", nothing reaches SQL.
            let typo = #expect(throws: LiaisonError.self) { try nl.rows("topic", matching: RowQuery(sort: "nmae")) }
            #expect(typo?.message.contains("did you mean 'name'") == true)
            #expect(throws: LiaisonError.self) {
                try nl.rows("topic", matching: RowQuery(filters: ["name\" OR 1=1 --": "x"]))
            }
        }
    }

    @Test func searchIgnoresCaseAndAccentsInEveryScriptAndStaysOneQuery() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV")
            try nl.write(author: "seed") { editor in
                try editor.set("topic", id: "t-fr", ["name": "Direction générale de la Sécurité intérieure"])
                try editor.set("topic", id: "t-nl", ["name": "Coördinatie", "description": "Ministerie van Justitie"])
                try editor.set("topic", id: "t-ar", ["name": "مُكافحة الإرهاب", "description": "الإرهاب"])
                try editor.set("topic", id: "t-de", ["name": "Straße"])
                try editor.set("topic", id: "t-plain", ["name": "Security"])
                for index in 0..<60 { try editor.set("topic", id: "t-\(index)", ["name": .text("Sécurité \(index)")]) }
            }
            func ids(_ search: String) throws -> [String] {
                try nl.rows("topic", matching: RowQuery(search: search)).rows.compactMap { $0["id"]?.displayText }
            }
            for search in ["securite", "SÉCURITÉ", "Sécurité", "sEcUrItE intérieure", "GÉNÉRALE"] {
                #expect(try ids(search).contains("t-fr"), "\(search)")
            }
            #expect(try ids("coordinatie") == ["t-nl"] && ids("COÖRDINATIE") == ["t-nl"])
            #expect(try ids("مكافحة") == ["t-ar"], "Arabic without its vowel marks finds the marked text")
            #expect(try ids("ارهاب") == ["t-ar"], "alef with hamza folds to alef")
            #expect(try ids("strasse") == ["t-de"] && ids("STRASSE") == ["t-de"])
            #expect(try ids("security") == ["t-plain"])
            #expect(try ids("nl-nctv").count == 65, "the owner column is searched too")
            // Still one window in SQL: a page of a search, and the count of all that match.
            let page = try nl.rows("topic", matching: RowQuery(search: "SECURITE", sort: "name", limit: 10, offset: 50))
            #expect(page.total == 61 && page.rows.count == 10)
            #expect(SearchFolding.fold("Ｓécurité") == "securite")
        }
    }

    @Test(
        arguments: [
            ("90", 90), ("30s", 30), ("5m", 300), ("2h", 7_200), ("7d", 604_800), ("1w", 604_800), ("1h30m", 5_400),
            ("1d12h", 129_600), ("2m30s", 150), ("1H30M", 5_400), ("1w2d3h4m5s", 788_645),
        ] as [(String, Int64)])
    func durationsAreReadTheSameWayEverywhere(text: String, seconds: Int64) {
        #expect(DurationText.seconds(text) == seconds)
        #expect(DurationText.parse(text) == .seconds(seconds))
        #expect(DurationText.seconds(DurationText.format(seconds: seconds)) == seconds)
    }

    @Test(arguments: ["", "0", "0s", "-5m", "30m1h", "1h1h", "1x", "h", "1h30", "1.5h", "1 h", "99999999999999999999s"])
    func notADuration(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test(.timeLimit(.minutes(2))) func theCLITakesCompoundDurations() async throws {
        try await withSampleReplica { cli in
            let recent = try await cli("log", "nl.db", "--since", "1h30m", "--json")
            #expect(recent.status == 0 && recent.stdout.contains("\"seq\""), "\(recent)")
            try await cli.expectRefused("log", "nl.db", "--since", "30m1h", mentioning: "1h30m")
            try await cli.expectRefused("sync", "nl.db", "--every", "1h1h", mentioning: "1h30m")
            try await cli.expectRefused("serve", "nl.db", "--port", "0", "--idle-timeout", "1x", mentioning: "1h30m")
        }
    }

    @Test func theConsoleLogAndTablePagesTakeCompoundDurationsAndSQLPages() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            try nl.write(author: "today") { try $0.set("topic", id: "topic-now", ["name": "Fresh"]) }
            try await withConsole(nl) { port, token in
                let console = try await ConsoleBrowser.logIn(port: port, token: token)
                let recent = try await console.get("/log?since=1h30m")
                #expect(recent.status == 200 && recent.text.contains("topic-now"))
                let bad = try await console.get("/log?since=30m1h")
                #expect(bad.status == 400 && bad.text.contains("1h30m"))
                let page = try await console.get("/table?name=topic&sort=name&dir=desc&page=99")
                #expect(page.status == 200 && page.text.contains("page 1 of 1"))
                let typo = try await console.get("/table?name=topic&f.nmae=x")
                #expect(typo.status == 400 && typo.text.contains("did you mean &#39;name&#39;") == false)
                #expect(typo.text.contains("did you mean 'name'"), "a plain-text answer: \(typo.text)")
            }
        }
    }
}
