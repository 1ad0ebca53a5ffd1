import Foundation

extension FaultCLI {
    /// What `liaison identity --json` prints.
    public struct IdentityText: Decodable, Sendable {
        public var site: String
        public var siteID: String
        public var publicKey: String
    }

    public func identity(_ database: String) async throws -> IdentityText {
        let text = try await output(["identity", database, "--json"])
        return try JSONDecoder().decode(IdentityText.self, from: Data(text.utf8))
    }

    /// Each replica trusts every other's key, as their operators do after reading each other's
    /// `liaison identity` out of band (`liaison trust DB SITE --key K --site-id ID`).
    public func trustEachOther(_ databases: [String]) async throws {
        var identities: [String: IdentityText] = [:]
        for database in databases { identities[database] = try await identity(database) }
        for database in databases {
            for (other, identity) in identities where other != database {
                _ = try await output([
                    "trust", database, identity.site, "--key", identity.publicKey, "--site-id", identity.siteID,
                ])
            }
        }
    }
}
