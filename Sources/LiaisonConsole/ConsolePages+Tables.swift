import Foundation
import Hummingbird
import Liaison
import NIOCore

/// A table view's search, filters, sort and page, read from the query string.
struct TableQuery: Sendable {
    static let pageSize = 50
    var name: String
    var search: String
    var filters: [String: String]
    var sort: String
    var descending: Bool
    var page: Int

    init(_ form: FormData) {
        name = form["name"] ?? ""
        search = form["q"] ?? ""
        filters = form.fields(prefixed: "f.").filter { !$0.value.isEmpty }
        sort = form["sort"] ?? "id"
        descending = form["dir"] == "desc"
        page = max(1, Int(form["page"] ?? "") ?? 1)
    }

    func pairs(sort: String? = nil, descending: Bool? = nil, page: Int? = nil) -> [(String, String)] {
        var out: [(String, String)] = [("name", name)]
        if !search.isEmpty { out.append(("q", search)) }
        for key in filters.keys.sorted() { out.append(("f." + key, filters[key]!)) }
        out.append(("sort", sort ?? self.sort))
        if descending ?? self.descending { out.append(("dir", "desc")) }
        if let page, page > 1 { out.append(("page", String(page))) }
        return out
    }

    /// The engine query of this view: search, filters and sort in SQL; one page, or every row for CSV.
    func rowQuery(columns: [String], page: Int?) -> RowQuery {
        RowQuery(
            search: search, filters: filters, sort: columns.contains(sort) ? sort : "id", descending: descending,
            limit: page == nil ? nil : Self.pageSize, offset: ((page ?? 1) - 1) * Self.pageSize)
    }
}

extension ConsoleController {
    func table(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let query = TableQuery(FormData(request.uri.query))
        let definition = try tableDefinition(query.name)
        let columns = try replica.columnNames(query.name)
        // The page asked for; past the last page, the last one (one more query only then).
        var result = try await replica.perform { [query] in
            try $0.rows(query.name, matching: query.rowQuery(columns: columns, page: query.page))
        }
        let pages = max(1, (result.total + TableQuery.pageSize - 1) / TableQuery.pageSize)
        let page = min(query.page, pages)
        if page != query.page {
            result = try await replica.perform { [query] in
                try $0.rows(query.name, matching: query.rowQuery(columns: columns, page: page))
            }
        }
        let shown = result.rows
        let choices = definition.columns.compactMap { column -> [String: Any]? in
            guard case .choice(let words) = column.type else { return nil }
            return [
                "column": column.name,
                "options": words.map { ["value": $0, "selected": query.filters[column.name] == $0] as [String: Any] },
            ]
        }
        let values: [String: Any] = [
            "name": query.name, "q": query.search, "choiceFilters": choices,
            "query": FormData.encode(query.pairs()), "total": result.total,
            "filtered": !query.search.isEmpty || !query.filters.isEmpty, "page": page, "pages": pages,
            "columns": columns.map { column -> [String: Any] in
                let sorted = query.sort == column
                return [
                    "name": column, "sorted": sorted, "arrow": query.descending ? "▼" : "▲",
                    "sortQuery": FormData.encode(
                        query.pairs(sort: column, descending: sorted ? !query.descending : false)),
                ]
            },
            "rows": shown.map { row -> [String: Any] in
                let id = Show.formValue(row["id"])
                return [
                    "cells": columns.map { column -> [String: Any] in
                        [
                            "text": Show.value(row[column]), "link": column == "id", "table": query.name,
                            "idQuery": FormData.component(id),
                        ]
                    }
                ]
            },
            "previous": page > 1 ? FormData.encode(query.pairs(page: page - 1)) : false,
            "next": page < pages ? FormData.encode(query.pairs(page: page + 1)) : false,
        ]
        return try self.pages.render("table", title: query.name, values, context: context, flash: nil)
    }

    /// The filtered view as CSV, every page.
    func tableCSV(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let query = TableQuery(FormData(request.uri.query))
        _ = try tableDefinition(query.name)
        let columns = try replica.columnNames(query.name)
        let rows = try await replica.perform { [query] in
            try $0.rows(query.name, matching: query.rowQuery(columns: columns, page: nil)).rows
        }
        var text = CSV.line(columns)
        for row in rows { text += CSV.line(columns.map { Show.formValue(row[$0]) }) }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"\(query.name).csv\"",
            ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func row(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let query = FormData(request.uri.query)
        let (name, id) = (query["table"] ?? "", query["id"] ?? "")
        return try await rowPage(name, id, context: context, error: nil, submitted: nil)
    }

    /// Saves an edit through the engine (`Replica.parse`, then `write`/`set`, as `liaison set` does):
    /// only changed fields are written; a value the schema refuses writes nothing and is shown.
    func saveRow(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let query = FormData(request.uri.query)
        let (name, id) = (query["table"] ?? "", query["id"] ?? "")
        _ = try tableDefinition(name)
        let body = try await request.body.collect(upTo: 1 << 20)
        let submitted = FormData(Substring(String(buffer: body))).fields(prefixed: "col.")
        let author = self.author
        do {
            let changed = try await replica.perform { replica -> Int in
                let current = try replica.row(name, id: id) ?? [:]
                let parsed = try replica.parse(table: name, submitted.filter { $0.key != "id" })
                let changes = parsed.filter { (current[$0.key] ?? .null) != $0.value }
                guard !changes.isEmpty else { return 0 }
                try replica.write(author: author) { try $0.set(name, id: id, changes) }
                return changes.count
            }
            if let session = context.sessionID {
                await sessions.flash(
                    session, changed == 0 ? "Nothing changed." : "Saved \(changed) field(s) as \(author).")
            }
            return Pages.redirect("/row?table=\(FormData.component(name))&id=\(FormData.component(id))")
        } catch let error as LiaisonError {
            return try await rowPage(name, id, context: context, error: error.message, submitted: submitted)
        }
    }

    private func rowPage(
        _ name: String, _ id: String, context: ConsoleContext, error: String?, submitted: [String: String]?
    ) async throws -> Response {
        let definition = try tableDefinition(name)
        let flash = await takeFlash(context)
        let (row, history, conflicts, seenBy) = try await replica.perform { replica in
            let row = try replica.row(name, id: id)
            return (
                row, try replica.history(name, id: id),
                try replica.conflicts(includeResolved: true).filter { $0.table == name && $0.rowID == id },
                row == nil ? nil : try replica.whoSees(name, id: id)
            )
        }
        // Who receives the row from this replica (`liaison who-sees`): the peers whose read grant holds its scope.
        let scope = seenBy?.scope ?? history.last?.scope ?? ""
        let readers = (seenBy?.peers.keys).map { $0.sorted() } ?? []
        guard row != nil || !history.isEmpty else {
            throw LiaisonError(.notFound, "no row '\(id)' in '\(name)'")
        }
        let values: [String: Any] = [
            "table": name, "id": id, "idQuery": FormData.component(id), "error": Show.optional(error),
            "fields": definition.allColumns.filter { $0.name != "id" }.map { column -> [String: Any] in
                var choices: [String] = []
                if case .choice(let words) = column.type { choices = words }
                return [
                    "name": column.name, "required": column.isRequired, "type": Self.typeName(column.type),
                    "value": submitted?[column.name] ?? Show.formValue(row?[column.name]),
                    "list": !choices.isEmpty, "choices": choices,
                ]
            },
            "history": history.reversed().map { version -> [String: Any] in
                [
                    "site": version.site, "seq": version.seq, "time": version.time, "author": version.author,
                    "signature": version.signature, "signatureClass": Show.signatureClass(version.signature),
                    "scope": version.scope, "op": version.op.rawValue, "values": Show.values(version.values),
                ]
            },
            "scope": scope, "readers": readers.isEmpty ? "no peer" : readers.joined(separator: ", "),
            "hasConflicts": !conflicts.isEmpty,
            "conflicts": conflicts.map {
                ["id": $0.id, "kind": $0.kind.rawValue, "column": $0.column ?? "the row", "state": $0.state]
                    as [String: Any]
            },
        ]
        return try pages.render(
            "row", title: "\(name) \(id)", values, context: context, flash: flash,
            status: error == nil ? .ok : .unprocessableContent)
    }

    func tableDefinition(_ name: String) throws -> TableDefinition {
        guard let table = replica.schema.tables.first(where: { $0.name == name }) else {
            _ = try replica.columnNames(name)  // throws the engine's "no synced table … did you mean"
            throw LiaisonError(.unknownTable, "no synced table '\(name)'")
        }
        return table
    }

    static func typeName(_ type: ColumnType) -> String {
        switch type {
        case .text: return "text"
        case .integer: return "whole number"
        case .real: return "number"
        case .date: return "date YYYY-MM-DD"
        case .choice: return "one of the listed words"
        case .reference(let target): return "id of a \(target) row"
        }
    }
}
