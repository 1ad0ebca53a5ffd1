import Foundation

extension Replica {
    /// Forgets a registered peer: its URL, token, grants, cursors, health and refusal counts. Its transactions stay.
    public func removePeer(_ name: String) throws {
        try withConnection { db in
            try transaction(db) {
                try db.run("DELETE FROM _liaison_peer WHERE name = ?", [.text(name)])
                guard db.changes > 0 else { throw Self.noPeer(name, db) }
                if try Self.hasHealthTable(db) {
                    try db.run("DELETE FROM _liaison_peer_health WHERE peer = ?", [.text(name)])
                }
                try Self.movePeerRefusals(db, peer: name, to: nil)
                // Its token goes too (the key file, under the replica's write lock).
                if keys.current() != nil { try keys.update { $0.tokens[name] = nil } }
            }
        }
    }

    /// Renames a registered peer, keeping its token, grants, cursors and health.
    public func renamePeer(_ name: String, to newName: String) throws {
        guard !newName.isEmpty, newName.count <= 64,
            newName.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
        else {
            throw LiaisonError(.invalidInput, "invalid peer name '\(newName)': use letters, digits, '-', '_' or '.'")
        }
        try withConnection { db in
            try transaction(db) {
                if try db.first("SELECT 1 FROM _liaison_peer WHERE name = ?", [.text(newName)], { _ in true }) ?? false
                {
                    throw LiaisonError(.invalidInput, "a peer named '\(newName)' exists already; remove it first")
                }
                try db.run("UPDATE _liaison_peer SET name = ? WHERE name = ?", [.text(newName), .text(name)])
                guard db.changes > 0 else { throw Self.noPeer(name, db) }
                if try Self.hasHealthTable(db) {
                    try db.run(
                        "UPDATE _liaison_peer_health SET peer = ? WHERE peer = ?", [.text(newName), .text(name)])
                }
                try Self.movePeerRefusals(db, peer: name, to: newName)
                if keys.current() != nil {
                    try keys.update { file in
                        file.tokens[newName] = file.tokens.removeValue(forKey: name)
                    }
                }
            }
        }
    }

    static func hasHealthTable(_ db: Connection) throws -> Bool {
        try db.first("SELECT 1 FROM sqlite_master WHERE name = '_liaison_peer_health'") { _ in true } ?? false
    }

    static func noPeer(_ name: String, _ db: Connection) -> LiaisonError {
        let names = (try? db.query("SELECT name FROM _liaison_peer ORDER BY name") { $0.text(0) }) ?? []
        let hint = Suggestion.nearest(to: name, in: names).map { " (did you mean '\($0)'?)" } ?? ""
        return LiaisonError(
            .invalidInput,
            "no peer '\(name)'\(hint); peers: \(names.isEmpty ? "none" : names.joined(separator: ", "))")
    }
}
