import Foundation
import Liaison

/// Schema changes in the randomized simulation (issue 16), when it is made with `schemaChanges`.
///
/// The first two replicas may change the schema: every replica grants them `--schema`, except the
/// late ones (each other replica with probability 1/3), which grant at a random later step or
/// just before the final sync. Until then a late replica keeps what it does not know (new columns
/// and tables) as opaque data and relays it, and holds what uses a choice value it lacks. The last
/// replica also adds a column nobody grants it until the end: everyone else keeps and relays its
/// values without showing them. Replicas fill what they know: new columns of topics, new tables'
/// rows (one `owner-wins`, one with a parent), the new statuses of agreements.
///
/// After the final sync `verifySchemaChanges` checks: one schema everywhere, nothing pending, every
/// replica's log passes `verify`, and each kept value is the one its origin signed.
public struct SimulationSchemaPlan {
    /// Decisions drawn apart from the other generators, so adding schema steps moves no other draw.
    var random = SeededGenerator(seed: 0)
    /// Whether this run changes the schema at all.
    public internal(set) var isOn = false
    /// Replicas that grant the schema sites only late.
    public internal(set) var late: Set<Int> = []
    /// Schema changes made, and transactions a replica relayed while it lacked one of their tables or columns.
    public internal(set) var changesMade = 0
    public internal(set) var opaqueRelayed = 0
    /// Tables and topic columns any schema change of the run may add.
    static let columns = [
        ColumnDefinition("note_a"), ColumnDefinition("level", .integer, defaultValue: 1),
        ColumnDefinition("held_on", .date),
    ]
    static let ungrantedColumn = ColumnDefinition("note_x")
    static let choices = ["in_review", "suspended"]
    static let tables = [
        TableDefinition(
            "meeting", columns: [ColumnDefinition("title", required: true), ColumnDefinition("held_on", .date)]),
        TableDefinition(
            "officer", policy: .ownerWins, parentColumn: "organisation_id",
            columns: [
                ColumnDefinition("organisation_id", .reference("organisation"), required: true),
                ColumnDefinition("name", required: true),
            ]),
    ]

    public init() {}
}

extension ConvergenceSimulation {
    static let schemaSites = ["SITE-0", "SITE-1"]

    /// Grants the schema sites at every replica but the late ones (called at the end of `init`).
    func setUpSchemaChanges() throws {
        schemaPlan.isOn = true
        schemaPlan.random = SeededGenerator(seed: seed &+ 0x5343_4845)
        for index in replicas.indices where index > 0 && Int.random(in: 0..<3, using: &schemaPlan.random) == 0 {
            schemaPlan.late.insert(index)
        }
        for index in replicas.indices where !schemaPlan.late.contains(index) {
            for site in Self.schemaSites { try replicas[index].grantSchemaChanges(to: site) }
        }
    }

    /// One schema step: a change by a site that may make it, a late replica granting, or a fill.
    func schemaStep() throws {
        guard schemaPlan.isOn else { return }
        let roll = Int.random(in: 0..<100, using: &schemaPlan.random)
        let index = Int.random(in: 0..<replicas.count, using: &schemaPlan.random)
        switch roll {
        case 0..<30: try changeSchema(at: index)
        case 30..<40:
            guard let late = schemaPlan.late.min() else { return }
            try learnSchema(late)
        default: try fillSchema(at: index)
        }
    }

    /// Before the final sync: the late replicas grant the schema sites, and everyone grants the
    /// last replica, whose change nobody had granted.
    func learnSchemaLate() throws {
        guard schemaPlan.isOn else { return }
        for index in schemaPlan.late.sorted() { try learnSchema(index) }
        let last = replicas.count - 1
        for (index, replica) in replicas.enumerated() where index != last {
            try replica.grantSchemaChanges(to: "SITE-\(last)")
        }
        trace.append("everyone grants SITE-\(last) --schema")
    }

    private func learnSchema(_ index: Int) throws {
        for site in Self.schemaSites { try replicas[index].grantSchemaChanges(to: site) }
        schemaPlan.late.remove(index)
        trace.append("\(index) grants --schema late")
    }

    private func changeSchema(at index: Int) throws {
        let replica = replicas[index]
        let last = replicas.count - 1
        guard index < Self.schemaSites.count || index == last else { return }
        do {
            if index == last {
                try replica.addColumn(SimulationSchemaPlan.ungrantedColumn, to: "topic", author: "admin-\(index)")
                trace.append("\(index) +topic.note_x (not granted)")
            } else {
                switch Int.random(in: 0..<3, using: &schemaPlan.random) {
                case 0:
                    let column = SimulationSchemaPlan.columns.randomElement(using: &schemaPlan.random)!
                    try replica.addColumn(column, to: "topic", author: "admin-\(index)")
                    trace.append("\(index) +topic.\(column.name)")
                case 1:
                    let value = SimulationSchemaPlan.choices.randomElement(using: &schemaPlan.random)!
                    try replica.addChoice(value, to: "status", of: "agreement", author: "admin-\(index)")
                    trace.append("\(index) +agreement.status=\(value)")
                default:
                    let table = SimulationSchemaPlan.tables.randomElement(using: &schemaPlan.random)!
                    try replica.addTable(table, author: "admin-\(index)")
                    trace.append("\(index) +table \(table.name)")
                }
            }
            schemaPlan.changesMade += 1
        } catch let error as LiaisonError where error.code == .invalidInput {
            // This replica has it already.
        }
    }

    /// Writes into what replica `index` knows of the added columns, choices and tables, within its
    /// grant: a replica with a partial grant only on its own rows.
    private func fillSchema(at index: Int) throws {
        let replica = replicas[index]
        let schema = Dictionary(uniqueKeysWithValues: replica.schema.tables.map { ($0.name, $0) })
        let base = Dictionary(uniqueKeysWithValues: SchemaDefinition.cooperation.tables.map { ($0.name, $0) })
        let newColumns = (schema["topic"]?.columns ?? []).filter { column in
            !(base["topic"]?.columns.contains { $0.name == column.name } ?? false)
        }
        var statuses: [String] = []
        if case .choice(let values)? = schema["agreement"]?.columns.first(where: { $0.name == "status" })?.type {
            statuses = values.filter(SimulationSchemaPlan.choices.contains)
        }
        let newTables = SimulationSchemaPlan.tables.map(\.name).filter { schema[$0] != nil }
        let grant = grants[index]
        let n = Int.random(in: 0..<3, using: &schemaPlan.random)
        let stamp = "\(index)/\(trace.count)"
        let kind = Int.random(in: 0..<3, using: &schemaPlan.random)
        do {
            try replica.write(author: "user-\(index)") { editor in
                switch kind {
                case 0:
                    guard let column = newColumns.randomElement(using: &schemaPlan.random) else { return }
                    let id = grant == nil ? "topic-\(n)" : "topic-p\(index)-\(n)"
                    guard try editor.row("topic", id: id) != nil else { return }
                    let value: CellValue =
                        switch column.type {
                        case .integer: .integer(Int64(trace.count))
                        case .date: .text(String(format: "2027-%02d-%02d", 1 + n, 1 + trace.count % 28))
                        default: .text("\(column.name) \(stamp)")
                        }
                    try editor.set("topic", id: id, [column.name: value])
                case 1 where grant == nil:
                    guard let status = statuses.randomElement(using: &schemaPlan.random) else { return }
                    let id = "agr-\(n)"
                    guard try editor.row("agreement", id: id) != nil else { return }
                    try editor.set("agreement", id: id, ["status": .text(status)])
                default:
                    guard let table = newTables.randomElement(using: &schemaPlan.random) else { return }
                    if table == "officer" {
                        // Full grants only: the row takes its body's scope.
                        let body = "org-\(n)"
                        guard grant == nil, try editor.row("organisation", id: body) != nil else { return }
                        try editor.set(
                            "officer", id: "officer-\(n)",
                            ["organisation_id": .text(body), "name": .text("Officer \(stamp)")])
                    } else {
                        let id = grant == nil ? "meeting-\(n)" : "meeting-p\(index)-\(n)"
                        var values: [String: CellValue] = ["title": .text("Meeting \(stamp)")]
                        if try editor.row("meeting", id: id) == nil {
                            values["scope"] = .text(
                                (grant.map { $0.sorted() } ?? Self.scopes).randomElement(
                                    using: &schemaPlan.random)!)
                        }
                        try editor.set("meeting", id: id, values)
                    }
                }
            }
            trace.append("schema fill \(kind) at \(index)")
        } catch let error as LiaisonError where error.code == .typeMismatch || error.code == .invalidInput {
            // A reference to a row deleted here: refused, nothing written.
        }
    }

    /// Counts the transactions of `page` that replica `from` relays while lacking one of their
    /// tables or columns (kept as opaque data there).
    func noteRelayed(_ page: PullResponse, from: Int) {
        guard schemaPlan.isOn else { return }
        let schema = Dictionary(uniqueKeysWithValues: replicas[from].schema.tables.map { ($0.name, $0) })
        for record in page.transactions where record.origin != replicas[from].siteID {
            let opaque = record.changes.contains { change in
                guard let table = schema[change.table] else { return true }
                let names = Set(table.allColumns.map(\.name))
                return (change.values ?? [:]).keys.contains { !names.contains($0) }
            }
            if opaque { schemaPlan.opaqueRelayed += 1 }
        }
    }

    /// After the final sync: one schema everywhere with nothing pending, every log verifies, and
    /// every value a replica kept of an added table or column is the one its origin signed.
    func verifySchemaChanges() throws {
        guard schemaPlan.isOn else { return }
        let hashes = Set(replicas.map(\.schema.hash))
        guard hashes.count == 1 else {
            throw failure("replicas end on different schemas: \(replicas.map(\.schema.hash))")
        }
        let base = Dictionary(uniqueKeysWithValues: SchemaDefinition.cooperation.tables.map { ($0.name, $0) })
        func isAdded(_ change: ChangeRecord) -> Bool {
            guard let table = base[change.table] else { return change.table != "liaison_schema_change" }
            let names = Set(table.allColumns.map(\.name))
            return (change.values ?? [:]).keys.contains { !names.contains($0) }
        }
        var signed: [String: [String: CellValue]] = [:]
        for entry in try replicas[0].log() {
            for change in entry.changes where isAdded(change) {
                signed["\(entry.origin)#\(entry.seq)|\(change.table)|\(change.id)"] = change.values
            }
        }
        for (index, replica) in replicas.enumerated() {
            if let pending = try replica.schemaReport().changes.first(where: { $0.pending != nil }) {
                throw failure("replica \(index) keeps \(pending.target) pending: \(pending.pending ?? "")")
            }
            let problems = try replica.verify().problems
            guard problems.isEmpty else { throw failure("replica \(index) fails verify: \(problems.prefix(3))") }
            for entry in try replica.log() {
                for change in entry.changes where isAdded(change) && change.values != nil {
                    let key = "\(entry.origin)#\(entry.seq)|\(change.table)|\(change.id)"
                    guard signed[key] == change.values else {
                        throw failure(
                            "replica \(index) keeps \(key) as \(change.values ?? [:]), replica 0 as \(signed[key] ?? [:])"
                        )
                    }
                }
            }
        }
    }
}
