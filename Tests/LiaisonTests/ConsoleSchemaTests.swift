import Foundation
import Liaison
import LiaisonConsole
import LiaisonTesting
import Testing

/// The schema in the console (issue 16, point 3): the page shows what `liaison schema DB` prints,
/// and its forms publish the same signed schema changes as the CLI, with the CLI's checks and
/// "did you mean"; a refused form writes nothing; MA receives and applies what NL added.
@Suite(.timeLimit(.minutes(3))) struct ConsoleSchemaTests {
    @Test func schemaChangesMadeInTheConsoleAreSignedAndReachAPeer() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try transfer(from: nl, to: ma)
            try ma.grantSchemaChanges(to: "NL-NCTV")
            try await withConsole(nl) { port, token in
                let console = try await ConsoleBrowser.logIn(port: port, token: token)
                let page = try await console.get("/schema")
                let report = try nl.schemaReport()
                #expect(page.status == 200 && page.text.contains("id=\"schema-hash\">\(report.hash)<"))
                #expect(page.text.contains("<td>status</td><td>choice</td><td>open, in_progress, done, cancelled</td>"))
                let before = try nl.log().count

                func refused(_ path: String, _ form: String, mentioning text: String) async throws {
                    let answer = try await console.post(path, "csrf=\(console.csrf)&" + form)
                    #expect(answer.status == 422, "\(path) \(form): \(answer.status)")
                    #expect(answer.text.contains("id=\"schema-error\""), "\(answer.text)")
                    #expect(answer.text.contains(text), "\(text) not in the error of \(form)")
                    #expect(try nl.log().count == before, "a refused form writes nothing")
                }
                try await refused(
                    "/schema/column", "colTable=agenda_item&colName=meeting_date&colType=daet",
                    mentioning: "did you mean &#39;date&#39;?")
                try await refused(
                    "/schema/column", "colTable=agenda_itme&colName=meeting_date&colType=date",
                    mentioning: "did you mean &#39;agenda_item&#39;?")
                try await refused(
                    "/schema/column", "colTable=agenda_item&colName=meeting_date&colType=integer&colDefault=soon",
                    mentioning: "does not fit type integer")
                try await refused(
                    "/schema/choice", "choiceTable=action&choiceColumn=statsu&choiceValue=on_hold",
                    mentioning: "did you mean &#39;status&#39;?")
                try await refused(
                    "/schema/table", "tableName=liaison_officer&tableColumns=name%3Atext&tablePolicy=owner-wnis",
                    mentioning: "did you mean &#39;owner-wins&#39;?")
                let kept = try await console.post(
                    "/schema/table", "csrf=\(console.csrf)&tableName=liaison_officer&tableColumns=name%3Atxet")
                #expect(kept.text.contains("value=\"liaison_officer\""), "the form keeps what was typed")
                let forged = try await console.post(
                    "/schema/column",
                    "csrf=\(String(repeating: "0", count: 64))&colTable=agenda_item&colName=meeting_date&colType=date")
                let countAfterForgery = try nl.log().count
                #expect(forged.status == 403 && countAfterForgery == before)

                for (path, form) in [
                    ("/schema/column", "colTable=agenda_item&colName=meeting_date&colType=date"),
                    ("/schema/choice", "choiceTable=action&choiceColumn=status&choiceValue=on_hold"),
                    (
                        "/schema/table",
                        "tableName=liaison_officer&tableColumns=name%3Atext%0D%0Aphone%3Atext&tablePolicy=owner-wins&tableParent=organisation"
                    ),
                ] {
                    let answer = try await console.post(path, "csrf=\(console.csrf)&" + form)
                    #expect(answer.status == 303, "\(path): \(answer.status) \(answer.text)")
                }
                let after = try await console.get("/schema")
                #expect(after.text.contains("Added table liaison_officer as console-tester, signed"))
                #expect(after.text.contains("id=\"schema-liaison_officer\"") && after.text.contains("organisation_id"))
                #expect(after.text.contains("add_column agenda_item.meeting_date"), "who changed what")
                #expect(after.text.contains("href=\"/table?name=liaison_officer\""), "the new table is browsable")
            }
            #expect(try nl.log().count >= 3)
            #expect(try nl.log().suffix(3).allSatisfy { $0.author == "console-tester" })
            // The same signed changes as the CLI's: MA applies them and ends with the same schema.
            try transfer(from: nl, to: ma)
            #expect(try ma.schemaReport().hash == nl.schemaReport().hash)
            try ma.write(author: "karim") {
                try $0.set("agenda_item", id: "agenda-gctf-cve", ["meeting_date": "2027-01-15"])
                try $0.set("action", id: "act-roadmap-early-detection", ["status": "on_hold"])
                try $0.set("liaison_officer", id: "lo-1", ["organisation_id": "org-europol", "name": "A. Officer"])
            }
            try transfer(from: ma, to: nl)
            #expect(try nl.row("liaison_officer", id: "lo-1")?["name"] == "A. Officer")
        }
    }
}
