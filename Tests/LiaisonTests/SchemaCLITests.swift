import Foundation
import LiaisonTesting
import Testing

/// `liaison schema` as users meet it: the built binary, stdout, stderr and exit codes.
@Suite(.timeLimit(.minutes(2))) struct SchemaCLITests {
    @Test func addColumnChoiceAndTableThenShowWhoChangedWhat() async throws {
        try await withSampleReplica { cli in
            let column = try await cli(
                "schema", "add-column", "nl.db", "agenda_item", "meeting_date", "--type", "date", "--author", "anne")
            #expect(column == CommandResult(stdout: "added column agenda_item.meeting_date (date)\n"), "\(column)")
            try await cli.expectSuccess(
                "schema", "add-choice", "nl.db", "action", "status", "in_review", "--author", "anne")
            try await cli.expectSuccess(
                "schema", "add-table", "nl.db", "liaison_officer", "--column", "name:text", "--column", "since:date",
                "--parent", "organisation", "--policy", "owner-wins", "--author", "anne")
            let key = try await cli("schema", "add-natural-key", "nl.db", "liaison_officer", "name", "--author", "anne")
            #expect(key == CommandResult(stdout: "added natural key liaison_officer(name)\n"), "\(key)")
            try await cli.expectSuccess(
                "set", "nl.db", "agenda_item", "agenda-eu-online-content", "meeting_date=2026-12-10")
            try await cli.expectSuccess(
                "set", "nl.db", "liaison_officer", "lo-1", "organisation_id=org-nctv", "name=J. de Vries")
            let shown = try await cli("schema", "nl.db")
            #expect(shown.status == 0 && shown.stderr.isEmpty, "\(shown)")
            #expect(shown.stdout.hasPrefix("schema cooperation major 2 (hash "), "\(shown)")
            #expect(shown.stdout.contains("  meeting_date\tdate\n"))
            #expect(shown.stdout.contains("  status\tchoice:open,in_progress,done,cancelled,in_review\n"))
            #expect(
                shown.stdout.contains(
                    "liaison_officer  policy owner-wins  natural key (name)  parent organisation_id\n"),
                "\(shown)")
            #expect(shown.stdout.contains("  organisation_id\treference:organisation\trequired\n"))
            #expect(shown.stdout.contains("  NL-NCTV  anne  add_column agenda_item.meeting_date  applied\n"))
            #expect(shown.stdout.contains("  NL-NCTV  anne  add_table liaison_officer  applied\n"))
            // The new row took its parent's scope.
            let row = try await cli("get", "nl.db", "liaison_officer", "lo-1", "--json")
            #expect(
                row.stdout.contains("\"scope\":\"public\"") || row.stdout.contains("\"scope\" : \"public\""), "\(row)")
        }
    }

    @Test func badSchemaCommandsExit64WithOneLineAndWhatToDo() async throws {
        try await withSampleReplica { cli in
            try await cli.expectRefused(
                "schema", "add-column", "nl.db", "agenda_itme", "meeting_date", "--type", "date",
                mentioning: "did you mean 'agenda_item'")
            try await cli.expectRefused(
                "schema", "add-column", "nl.db", "agenda_item", "meeting_date", "--type", "dat",
                mentioning: "unknown type 'dat'", "did you mean 'date'")
            try await cli.expectRefused(
                "schema", "add-column", "nl.db", "topic", "level", "--type", "integer", "--default", "high",
                mentioning: "does not fit")
            try await cli.expectRefused(
                "schema", "add-choice", "nl.db", "action", "stauts", "in_review", mentioning: "did you mean 'status'")
            try await cli.expectRefused(
                "schema", "add-choice", "nl.db", "action", "status", "done", mentioning: "already")
            try await cli.expectRefused(
                "schema", "add-table", "nl.db", "officer", "--column", "name", mentioning: "NAME:TYPE")
            try await cli.expectRefused(
                "schema", "add-table", "nl.db", "officer", "--column", "name:text", "--policy", "first-wins",
                mentioning: "unknown policy")
            try await cli.expectRefused(
                "schema", "add-table", "nl.db", "topic", "--column", "name:text", mentioning: "exists already")
            try await cli.expectRefused(
                "set", "nl.db", "liaison_schema_change", "x", "kind=add_table", mentioning: "liaison schema")
            try await cli.expectRefused("grant", "nl.db", "nope", "--schema", mentioning: "not a site code")
            try await cli.expectRefused(
                "schema", "add-natural-key", "nl.db", "topic", "name", mentioning: "set once")
            try await cli.expectRefused(
                "schema", "add-natural-key", "nl.db", "topic", mentioning: "name the key's columns")
        }
    }
}
