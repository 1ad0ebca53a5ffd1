import Foundation
import Liaison
import Logging

/// The server's security log: one structured line per event (failed authentication, refused push,
/// shed request or connection, alarm) at `warning`, and counters kept in the replica for
/// `liaison status`, in all and per peer (`Replica.recordPeerRefusals`). Counters are written at most once a second, so a flood of bad requests
/// does not become a flood of writes.
final class SecurityLog: @unchecked Sendable {
    private let replica: Replica
    private let logger: Logger
    private let lock = NSLock()
    private var pending: [SecurityEvent: Int] = [:]
    /// Refusals by peer and kind (`PeerRefusalKind`), for the peer's health.
    private var pendingByPeer: [String: [String: Int]] = [:]
    private var isFlushScheduled = false

    init(replica: Replica, logger: Logger) {
        self.replica = replica
        self.logger = logger
    }

    /// Logs one event with its details (metadata keys are dotted: `security.peer`, `security.reason`)
    /// and counts it; the counts reach the replica within about a second.
    func record(_ event: SecurityEvent, _ metadata: Logger.Metadata = [:]) {
        var metadata = metadata
        metadata["security.event"] = "\(event.name)"
        logger.warning("security event", metadata: metadata)
        let peer = metadata["security.peer"].map { "\($0)" }
        count(event: event, peer: peer)
    }

    /// Counts a refusal of `peer`'s request that is not a security event of its own.
    func countRefusal(peer: String, kind: String) {
        count(event: nil, peer: peer, kind: kind)
    }

    private func count(event: SecurityEvent?, peer: String?, kind: String? = nil) {
        let schedule: Bool = lock.withLock {
            if let event { pending[event, default: 0] += 1 }
            if let peer, let kind = kind ?? event.map(\.name) { pendingByPeer[peer, default: [:]][kind, default: 0] += 1 }
            defer { isFlushScheduled = true }
            return !isFlushScheduled
        }
        if schedule {
            DispatchQueue.global().asyncAfter(deadline: .now() + 1) { self.flush() }
        }
    }

    /// Writes the pending counts to the replica.
    func flush() {
        let (counts, byPeer) = lock.withLock {
            defer {
                pending = [:]
                pendingByPeer = [:]
                isFlushScheduled = false
            }
            return (pending, pendingByPeer)
        }
        try? replica.recordSecurityEvents(counts)
        try? replica.recordPeerRefusals(byPeer)
    }

    /// Raises what a refused request revealed: an identity conflict or an equivocation (an alarm),
    /// a forged or altered transaction, a sender past its staging quota, and any refused push.
    func raise(_ error: LiaisonError, peer: String, path: String) {
        let metadata: Logger.Metadata = [
            "security.peer": "\(peer)", "security.reason": "\(error.code)", "http.path": "\(path)",
            "security.message": "\(error.message)",
        ]
        switch error.code {
        case .identityConflict: record(.identityConflict, metadata)
        case .equivocation: record(.equivocation, metadata)
        default:
            switch error.securityFinding {
            case .forgery: record(.forgedTransaction, metadata)
            case .quotaExhausted: record(.quotaExhausted, metadata)
            case nil: break
            }
        }
        if path.hasSuffix("/push") && error.code != .busy {
            record(.pushRefused, metadata)
        } else if error.code != .busy {
            countRefusal(peer: peer, kind: "request_refused")
        }
    }
}
