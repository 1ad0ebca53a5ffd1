import Foundation
import Liaison
import LiaisonClient
import LiaisonTesting

/// Helpers of the tests that deliver the same transactions in two orders over real HTTP and
/// compare the conflict records (issue 12: the same records on every replica that holds the rows).
enum ArrivalOrder {
    /// Syncs `client` with the replica served at `url`: pairs them first if needed, and points a
    /// peer record made when `server` paired as a client (with a placeholder URL) at `url`,
    /// keeping its token and grants.
    static func sync(_ client: Replica, with server: Replica, url: String) async throws {
        let name = server.siteCode.rawValue
        if let known = try client.peers().first(where: { $0.name == name }), known.url != url {
            try client.addPeer(
                name: name, url: url, token: known.token, siteID: known.siteID, read: known.readScopes,
                write: known.writeScopes)
        }
        let peer = try client.peers().first { $0.name == name } ?? pair(client, with: server, url: url)
        try await SyncDriver(replica: client).sync(with: peer)
    }

    /// A replica's conflict records as the simulation compares them: id, kind, cell, loser, state.
    static func summary(_ replica: Replica) throws -> [String] {
        try replica.conflicts(includeResolved: true).map {
            "\($0.id) \($0.kind) \($0.rowID).\($0.column ?? "-") loser \($0.loser.site)#\($0.loser.seq) \($0.state)"
        }.sorted()
    }
}
