import Foundation

extension SchemaDefinition {
    /// The counter-terrorism cooperation dataset: bodies, who takes part in them, their agendas,
    /// agreements and action items.
    ///
    /// References are checked by the engine, not by SQLite foreign keys: a replica must be able to
    /// keep a row whose referenced row was deleted concurrently elsewhere (an `orphan` conflict).
    public static let cooperation = SchemaDefinition(
        name: "cooperation", version: 2,
        tables: [
            TableDefinition(
                "organisation", naturalKey: ["name", "kind"],
                columns: [
                    ColumnDefinition("name", required: true),
                    ColumnDefinition(
                        "kind",
                        .choice([
                            "state", "agency", "international_organisation", "forum", "coalition",
                            "working_group", "network", "unit", "project", "task_force",
                        ]), required: true),
                    ColumnDefinition("country"),
                    ColumnDefinition("parent_id", .reference("organisation")),
                    ColumnDefinition("description"),
                ]),
            TableDefinition(
                "membership", naturalKey: ["organisation_id", "body_id", "role"],
                columns: [
                    ColumnDefinition("organisation_id", .reference("organisation"), required: true),
                    ColumnDefinition("body_id", .reference("organisation"), required: true),
                    ColumnDefinition(
                        "role", .choice(["member", "chair", "co_chair", "participant", "host"]), required: true),
                    ColumnDefinition("since", .date),
                    ColumnDefinition("until", .date),
                    ColumnDefinition("note"),
                ]),
            TableDefinition(
                "topic", naturalKey: ["name"],
                columns: [
                    ColumnDefinition("name", required: true),
                    ColumnDefinition("description"),
                ]),
            TableDefinition(
                "agenda_item", naturalKey: ["body_id", "topic_id"],
                columns: [
                    ColumnDefinition("body_id", .reference("organisation"), required: true),
                    ColumnDefinition("topic_id", .reference("topic"), required: true),
                    ColumnDefinition("priority", .integer),
                ]),
            TableDefinition(
                "agreement", policy: .ownerWins, naturalKey: ["title"],
                columns: [
                    ColumnDefinition("title", required: true),
                    ColumnDefinition(
                        "kind", .choice(["roadmap", "directive", "arrangement", "resolution", "statement"]),
                        required: true),
                    ColumnDefinition("body_id", .reference("organisation")),
                    ColumnDefinition("date", .date),
                    ColumnDefinition(
                        "status", .choice(["draft", "in_preparation", "agreed", "in_force", "superseded"])),
                ]),
            TableDefinition(
                "action", naturalKey: ["agreement_id", "title"],
                columns: [
                    ColumnDefinition("agreement_id", .reference("agreement"), required: true),
                    ColumnDefinition("title", required: true),
                    ColumnDefinition("assignee_id", .reference("organisation")),
                    ColumnDefinition("due", .date),
                    ColumnDefinition("status", .choice(["open", "in_progress", "done", "cancelled"])),
                ]),
            // The scope registry: one row per declared sharing scope (its id), shared in that very
            // scope, so only those who may read a scope learn that it exists (ScopeRegistry).
            TableDefinition(
                "sharing_scope",
                columns: [
                    ColumnDefinition("description", required: true)
                ]),
        ])
}
