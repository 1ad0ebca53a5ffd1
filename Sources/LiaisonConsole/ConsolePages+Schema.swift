import Foundation
import Hummingbird
import Liaison

/// The schema page: what `liaison schema DB` prints, and the forms of `schema add-column`,
/// `add-choice` and `add-table`. Each form publishes the same signed schema change as the CLI,
/// through the same engine calls (`Replica.addColumn`, `addChoice`, `addTable`) and the same
/// reading of the words (`SchemaChangeWords`), so the checks and "did you mean" are the CLI's.
extension ConsoleController {
    func schema(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        try await schemaPage(context, error: nil, submitted: [:])
    }

    /// `POST /schema/column`, `/schema/choice` or `/schema/table`.
    func changeSchema(_ request: Request, _ context: ConsoleContext, kind: String) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let form = FormData(Substring(String(buffer: body)))
        var submitted: [String: String] = [:]
        for key in [
            "colTable", "colName", "colType", "colDefault", "choiceTable", "choiceColumn", "choiceValue", "tableName",
            "tableColumns", "tablePolicy", "tableParent",
        ] {
            submitted[key] = (form[key] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let author = self.author
        let fields = submitted
        do {
            let done = try await replica.perform { replica -> String in
                switch kind {
                case "column":
                    let column = try SchemaChangeWords.column(
                        name: fields["colName"]!, type: fields["colType"]!, defaultValue: fields["colDefault"])
                    try replica.addColumn(column, to: fields["colTable"]!, author: author)
                    return "Added column \(fields["colTable"]!).\(column.name) (\(column.type.label))"
                case "choice":
                    try replica.addChoice(
                        fields["choiceValue"]!, to: fields["choiceColumn"]!, of: fields["choiceTable"]!, author: author)
                    return "Added choice \(fields["choiceValue"]!) to \(fields["choiceTable"]!).\(fields["choiceColumn"]!)"
                default:
                    let columns = fields["tableColumns"]!.split(whereSeparator: { $0.isNewline || $0 == "," })
                        .map(String.init)
                    let definition = try SchemaChangeWords.table(
                        name: fields["tableName"]!, columns: columns, policy: fields["tablePolicy"] ?? "lww",
                        parent: fields["tableParent"])
                    try replica.addTable(definition, author: author)
                    return "Added table \(definition.name)"
                }
            }
            if let session = context.sessionID {
                await sessions.flash(session, "\(done) as \(author), signed. It reaches the peers at the next sync.")
            }
            return Pages.redirect("/schema")
        } catch let error as LiaisonError {
            return try await schemaPage(context, error: error.message, submitted: submitted)
        }
    }

    private func schemaPage(_ context: ConsoleContext, error: String?, submitted: [String: String]) async throws
        -> Response
    {
        let flash = await takeFlash(context)
        let report = try await replica.perform { try $0.schemaReport() }
        var values: [String: Any] = [
            "name": report.name, "major": report.major, "hash": report.hash, "granted": report.granted,
            "error": Show.optional(error),
            "tables": report.tables.map { table -> [String: Any] in
                [
                    "name": table.name, "policy": table.policy.rawValue,
                    "naturalKey": table.naturalKey.isEmpty ? false : table.naturalKey.joined(separator: ", "),
                    "parent": Show.optional(table.parentColumn),
                    "columns": table.allColumns.map { column -> [String: Any] in
                        var choices = ""
                        var type = column.type.label
                        if case .choice(let list) = column.type {
                            choices = list.joined(separator: ", ")
                            type = "choice"
                        }
                        return [
                            "name": column.name, "type": type, "choices": choices,
                            "required": column.isRequired ? "yes" : "",
                            "default": column.defaultValue.map(Show.value) ?? "",
                        ]
                    },
                ]
            },
            "changes": report.changes.reversed().map { change -> [String: Any] in
                [
                    "time": change.time, "site": change.site, "author": change.author, "kind": change.kind,
                    "target": change.target, "state": change.pending.map { "pending: \($0)" } ?? "applied",
                    "pending": change.pending != nil,
                ]
            },
            "tableNames": report.tables.map(\.name),
            "choiceColumns": report.tables.flatMap { table in
                table.allColumns.compactMap { column -> String? in
                    if case .choice = column.type { return column.name }
                    return nil
                }
            }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } },
            "typeNames": ["text", "integer", "real", "date", "choice:"],
            "policies": ConflictPolicy.allCases.map { policy -> [String: Any] in
                ["value": policy.rawValue, "selected": policy.rawValue == (submitted["tablePolicy"] ?? "lww")]
            },
        ]
        for (key, value) in submitted { values[key] = value }
        return try pages.render(
            "schema", title: "Schema", values, context: context, flash: flash,
            status: error == nil ? .ok : .unprocessableContent)
    }
}
