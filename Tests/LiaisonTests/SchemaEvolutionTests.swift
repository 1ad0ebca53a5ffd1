import Foundation
import Liaison
import LiaisonClient
import LiaisonProtocol
import LiaisonTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Schema changes travel as signed transactions over real HTTP; only sites granted the right
/// change a replica's schema; other majors are refused.
@Suite(.timeLimit(.minutes(3))) struct SchemaEvolutionTests {
    static let meetingDate = ColumnDefinition("meeting_date", .date)

    /// NL adds `agenda_item.meeting_date` and the action status `in_review`, and fills them.
    static func nlChangesTheSchema(_ nl: Replica) throws {
        try nl.addColumn(meetingDate, to: "agenda_item", author: "anne")
        try nl.addChoice("in_review", to: "status", of: "action", author: "anne")
        try nl.write(author: "anne") {
            try $0.set(
                "agenda_item", id: "ai-returnees",
                ["body_id": "org-nl", "topic_id": "topic-reintegration", "meeting_date": "2026-12-10", "priority": 1])
        }
    }

    @Test func nlAddsAColumnAndAChoiceThatMAUsesOverHTTP() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try Self.nlChangesTheSchema(nl)
            #expect(try nl.row("agenda_item", id: "ai-returnees")?["meeting_date"] == "2026-12-10")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try ma.grantSchemaChanges(to: "NL-NCTV")
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try ma.row("agenda_item", id: "ai-returnees")?["meeting_date"] == "2026-12-10")
                // MA uses both: a meeting date of its own and the new status.
                let action = "act-roadmap-early-detection"
                try ma.write(author: "karim") {
                    try $0.set("agenda_item", id: "ai-returnees", ["meeting_date": "2027-01-15"])
                    try $0.set("action", id: action, ["status": "in_review"])
                }
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try nl.row("agenda_item", id: "ai-returnees")?["meeting_date"] == "2027-01-15")
                #expect(try nl.row("action", id: action)?["status"] == "in_review")
                #expect(try nl.dump() == ma.dump())
                #expect(nl.schema.hash == ma.schema.hash)
                #expect(try ma.verify().problems.isEmpty)
                // Who changed what.
                let report = try ma.schemaReport()
                #expect(
                    report.changes.map(\.target).sorted() == ["action.status=in_review", "agenda_item.meeting_date"])
                #expect(report.changes.allSatisfy { $0.site == "NL-NCTV" && $0.author == "anne" && $0.pending == nil })
            }
        }
    }

    /// The issue's scenario: NL changes the schema and fills the new column, table and choice; TR
    /// has not applied the change (it does not let NL change its schema yet), keeps what it does
    /// not know as opaque data and relays NL's rows intact to DE, which applies the change and shows
    /// them, signatures verifying; once TR grants NL, it shows them too and releases what it held.
    @Test func trRelaysRowsOfAColumnItDoesNotKnowToAFourthAgencyIntact() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let tr = try factory.make("TR-TNP")
            let de = try factory.make("DE-BFV")
            try Self.nlChangesTheSchema(nl)
            try nl.addTable(
                TableDefinition(
                    "liaison_officer", parentColumn: "organisation_id",
                    columns: [
                        ColumnDefinition("organisation_id", .reference("organisation"), required: true),
                        ColumnDefinition("name", required: true), ColumnDefinition("since", .date),
                    ]), author: "anne")
            try nl.write(author: "anne") {
                try $0.set("liaison_officer", id: "lo-nl-1", ["organisation_id": "org-nctv", "name": "J. de Vries"])
            }
            let action = "act-roadmap-early-detection"
            try nl.write(author: "anne") { try $0.set("action", id: action, ["status": "in_review"]) }
            try await withServer(nl) { nlURL in
                let trToNL = try pair(tr, with: nl, url: nlURL)
                try await SyncDriver(replica: tr).sync(with: trToNL)
            }
            // TR: the column and table are not there, their values are kept in the log; the edit
            // using the new choice value is held, not refused.
            #expect(tr.schema == SchemaDefinition.cooperation)
            #expect(try tr.row("agenda_item", id: "ai-returnees")?["meeting_date"] == nil)
            #expect(try tr.row("agenda_item", id: "ai-returnees")?["priority"] == 1)
            #expect(try tr.quarantined().count == 1)
            #expect(try tr.verify().problems.isEmpty)
            try await withServer(tr) { trURL in
                let deToTR = try pair(de, with: tr, url: trURL)
                try trustKeys(of: tr, at: de)
                try de.grantSchemaChanges(to: "NL-NCTV")
                try await SyncDriver(replica: de).sync(with: deToTR)
                // DE has NL's rows as NL signed them, and shows the new column and table.
                #expect(try de.row("agenda_item", id: "ai-returnees")?["meeting_date"] == "2026-12-10")
                #expect(try de.row("liaison_officer", id: "lo-nl-1")?["name"] == "J. de Vries")
                #expect(try de.verify().problems.isEmpty)
                #expect(try de.history("agenda_item", id: "ai-returnees").first?.site == "NL-NCTV")
                // TR lets NL change its schema: it shows what it kept and releases what it held.
                try tr.grantSchemaChanges(to: "NL-NCTV")
                #expect(try tr.row("agenda_item", id: "ai-returnees")?["meeting_date"] == "2026-12-10")
                #expect(try tr.row("liaison_officer", id: "lo-nl-1")?["name"] == "J. de Vries")
                #expect(try tr.quarantined().isEmpty)
                #expect(try tr.row("action", id: action)?["status"] == "in_review")
                try await SyncDriver(replica: de).sync(with: deToTR)
            }
            #expect(try de.row("action", id: action)?["status"] == "in_review")
            #expect(try de.dump() == nl.dump())
            #expect(try tr.dump() == nl.dump())
            #expect(de.schema.hash == nl.schema.hash && tr.schema.hash == nl.schema.hash)
        }
    }

    @Test func aChangeOfASiteNotGrantedIsKeptPendingAndAppliesOnceGranted() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try nl.addChoice("in_review", to: "status", of: "action", author: "anne")
            let action = "act-roadmap-early-detection"
            try nl.write(author: "anne") { try $0.set("action", id: action, ["status": "in_review"]) }
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try await SyncDriver(replica: ma).sync(with: peer)
            }
            // Not granted: the change is kept (and would be relayed) but not applied, and the
            // edit that uses the new value waits in quarantine instead of being refused.
            let pending = try #require(try ma.schemaReport().changes.first)
            #expect(pending.pending?.contains("may not change the schema here") == true, "\(pending)")
            #expect(try ma.row("action", id: action)?["status"] != "in_review")
            #expect(try ma.quarantined().count == 1)
            try ma.grantSchemaChanges(to: "NL-NCTV")
            #expect(try ma.schemaReport().changes.first?.pending == nil)
            #expect(try ma.quarantined().isEmpty)
            #expect(try ma.row("action", id: action)?["status"] == "in_review")
            #expect(try ma.dump() == nl.dump())
        }
    }

    @Test func aPeerOnAnotherMajorVersionIsRefusedWithWhatToDo() async throws {
        try await withReplicas { factory in
            let next = SchemaDefinition(
                name: "cooperation", version: SchemaDefinition.cooperation.version + 1,
                tables: SchemaDefinition.cooperation.tables)
            let nl = try factory.make("NL-NCTV", schema: next)
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                let error = await #expect(throws: LiaisonError.self) {
                    try await SyncDriver(replica: ma).sync(with: peer)
                }
                #expect(error?.code == .schemaMismatch)
                let message = error?.message ?? ""
                #expect(
                    message.contains("major version \(next.version)") && message.contains("liaison clone"), "\(message)"
                )
            }
            #expect(try ma.rows("organisation").isEmpty)
        }
    }

    /// A natural key added to a table after it was made travels like any change: rows with the
    /// same key made at two agencies are recorded as duplicates once they meet.
    @Test func aNaturalKeyAddedLaterFindsDuplicatesOverHTTP() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try nl.addTable(
                TableDefinition("liaison_officer", columns: [ColumnDefinition("name", required: true)]), author: "anne")
            #expect(throws: LiaisonError.self) { try nl.addNaturalKey(["nmae"], to: "liaison_officer", author: "anne") }
            try nl.addNaturalKey(["name"], to: "liaison_officer", author: "anne")
            let again = #expect(throws: LiaisonError.self) {
                try nl.addNaturalKey(["name"], to: "liaison_officer", author: "anne")
            }
            #expect(again?.message.contains("set once") == true, "\(String(describing: again))")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                try ma.grantSchemaChanges(to: "NL-NCTV")
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(ma.schema.tables.first { $0.name == "liaison_officer" }?.naturalKey == ["name"])
                try nl.write(author: "anne") { try $0.set("liaison_officer", id: "lo-nl", ["name": "J. de Vries"]) }
                try ma.write(author: "karim") { try $0.set("liaison_officer", id: "lo-ma", ["name": "J. de Vries"]) }
                try await SyncDriver(replica: ma).sync(with: peer)
                for replica in [nl, ma] {
                    #expect(try replica.conflicts().contains { $0.kind == .duplicate && $0.table == "liaison_officer" })
                }
                #expect(try ma.schemaReport().changes.map(\.target).contains("liaison_officer(name)"))
            }
        }
    }

    /// A replica cloned after the change starts from the schema its source serves (defaults
    /// included), and shows nothing as pending.
    @Test func aCloneStartsFromTheChangedSchema() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            try Self.nlChangesTheSchema(nl)
            try nl.addColumn(ColumnDefinition("level", .integer, defaultValue: 2), to: "topic", author: "anne")
            try await withServer(nl) { url in
                // What 'liaison clone' does: the schema first, through an authenticated client.
                let probe = try factory.make("XX-PROBE")
                let probePeer = try pair(probe, with: nl, url: url)
                let schema = try await PeerClient(url: url, token: probePeer.token, from: probe.siteID, to: nl.siteID)
                    .schema()
                let ma = try Replica.create(at: factory.path("MA-DGST"), site: SiteCode("MA-DGST")!, schema: schema)
                let peer = try pair(ma, with: nl, url: url)
                try await SyncDriver(replica: ma).sync(with: peer)
                #expect(try ma.dump() == nl.dump())
                #expect(ma.schema.hash == nl.schema.hash)
                #expect(try ma.schemaReport().changes.allSatisfy { $0.pending == nil })
                #expect(try ma.row("topic", id: "topic-reintegration")?["level"] == 2)
            }
        }
    }

    /// A client that skips the status check is refused by the server on its pull and push:
    /// requests and answers (pages included) carry `Liaison-Schema`.
    @Test func aClientSayingItIsOnAnotherMajorIsRefusedByTheServer() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            try await withServer(nl) { url in
                let peer = try pair(ma, with: nl, url: url)
                var client = try PeerClient(url: url, token: peer.token, from: ma.siteID, to: nl.siteID)
                client.schema = try #require(SchemaStamp("cooperation;major=3"))
                let error = await #expect(throws: LiaisonError.self) {
                    try await client.pull(PullRequest(cursor: nil, vector: VersionVector(), limit: 10))
                }
                #expect(error?.message.contains("schema_mismatch") == true, "\(String(describing: error))")
                #expect(error?.message.contains("major version 3") == true, "\(String(describing: error))")
                client.schema = SchemaStamp(ma.schema)
                let page = try await client.pull(PullRequest(cursor: nil, vector: VersionVector(), limit: 10))
                #expect(!page.transactions.isEmpty)
            }
        }
    }

    /// A pulled page, taken over raw HTTP, says under which schema it was made: name, major and
    /// the hash of the schema as NL's changes left it.
    @Test func everyPageCarriesTheSchemaHashItWasMadeUnder() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            let ma = try factory.make("MA-DGST")
            let before = nl.schema.hash
            try Self.nlChangesTheSchema(nl)
            #expect(nl.schema.hash != before)
            try await withServer(nl) { url in
                _ = try pair(ma, with: nl, url: url)
                let body = try WireJSON.encode(PullRequest(cursor: nil, vector: VersionVector(), limit: 5))
                let request = SignedHTTP.request(url, path: "/v1/pull", token: "token-MA-DGST-NL-NCTV", body: body)
                let (data, response) = try await URLSession.shared.data(for: request)
                let http = try #require(response as? HTTPURLResponse)
                #expect(http.statusCode == 200, "\(String(decoding: data, as: UTF8.self))")
                let stamp = http.value(forHTTPHeaderField: SchemaStamp.header)
                #expect(stamp == "cooperation;major=\(nl.schema.version);hash=\(nl.schema.hash)", "\(stamp ?? "none")")
                #expect(try !WireJSON.decode(PullResponse.self, from: data).transactions.isEmpty)
            }
        }
    }

    /// An attacker that signs its own transaction, writing a schema change in NL's name, is
    /// refused where it lands (push over HTTP); MA's schema is untouched.
    @Test func aSchemaChangeInAnotherSitesNameIsRefused() async throws {
        try await withReplicas { factory in
            let ma = try factory.make("MA-DGST")
            let evil = try factory.make("XX-EVIL")
            let body =
                #"{"column":{"isRequired":false,"name":"x","type":{"type":"text"}},"kind":"add_column","major":2,"table":"topic"}"#
            try evil.write(author: "mallory") {
                try $0.execute(
                    "INSERT INTO liaison_schema_change(id, scope, owner, kind, major, target, body) VALUES (?, 'public', 'NL-NCTV', 'add_column', 2, 'topic.x', ?)",
                    [.text("add_column:topic.x@NL-NCTV"), .text(body)])
            }
            try ma.grantSchemaChanges(to: "NL-NCTV")
            try ma.grantSchemaChanges(to: "XX-EVIL")
            try await withServer(ma) { url in
                let peer = try pair(evil, with: ma, url: url)
                let error = await #expect(throws: LiaisonError.self) {
                    try await SyncDriver(replica: evil).sync(with: peer)
                }
                #expect(error?.message.contains("schema's change log") == true, "\(String(describing: error))")
            }
            #expect(ma.schema == SchemaDefinition.cooperation)
            #expect(try ma.schemaReport().changes.isEmpty)
            // Not through liaison set either.
            #expect(throws: LiaisonError.self) {
                try evil.write(author: "mallory") {
                    try $0.set("liaison_schema_change", id: "x@XX-EVIL", ["kind": "add_column"])
                }
            }
        }
    }

    @Test func badChangesAreRefusedWithWhatToFix() async throws {
        try await withReplicas { factory in
            let nl = try factory.make("NL-NCTV", sample: true)
            func message(_ body: () throws -> Void) -> String {
                do {
                    try body()
                    return "no error"
                } catch { return (error as? LiaisonError)?.message ?? "\(error)" }
            }
            #expect(
                message { try nl.addColumn(Self.meetingDate, to: "agenda_itme", author: "a") }.contains(
                    "did you mean 'agenda_item'"))
            #expect(
                message { try nl.addChoice("x", to: "stats", of: "action", author: "a") }.contains(
                    "did you mean 'status'"))
            #expect(message { try nl.addChoice("x", to: "title", of: "action", author: "a") }.contains("not a choice"))
            #expect(message { try nl.addChoice("open", to: "status", of: "action", author: "a") }.contains("already"))
            #expect(
                message { try nl.addColumn(ColumnDefinition("x", required: true), to: "topic", author: "a") }
                    .contains("cannot be required"))
            #expect(
                message { try nl.addColumn(ColumnDefinition("Bad Name"), to: "topic", author: "a") }.contains(
                    "invalid column name"))
            #expect(
                message { try nl.addColumn(ColumnDefinition("name"), to: "topic", author: "a") }.contains("already"))
            #expect(
                message {
                    try nl.addColumn(
                        ColumnDefinition("level", .integer, defaultValue: "high"), to: "topic", author: "a")
                }
                .contains("does not fit"))
            #expect(nl.schema == SchemaDefinition.cooperation)
            // A default is not written into the rows: no transaction but the change itself.
            let before = try nl.log().count
            try nl.addColumn(ColumnDefinition("level", .integer, defaultValue: 3), to: "topic", author: "a")
            #expect(try nl.log().count == before + 1)
            #expect(try nl.log().last?.changes.count == 1)
            #expect(try nl.row("topic", id: "topic-reintegration")?["level"] == 3)
        }
    }
}
