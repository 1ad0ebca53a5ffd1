import Foundation
import Liaison
import Logging

/// The long-polls parked on one server (`POST /v1/live`) and what wakes them.
///
/// At most one wait per peer (a newer one ends the older: a peer cannot pile them up) and
/// `maxWatches` in all (`busy` beyond). While any wait is parked, one task watches the replica
/// file (`ChangeProbe`, every `pollInterval`): a commit of any connection — a local edit, a batch
/// applied from another peer, an edit of another process — publishes what is unpublished and wakes
/// every wait, which then checks for itself whether its peer may read something new.
final class LiveHub: @unchecked Sendable {
    /// One parked wait.
    struct Ticket: Hashable, Sendable {
        fileprivate let id: UInt64
    }

    private struct Watch {
        var peer: String
        var ended = false
        var continuation: CheckedContinuation<Void, Never>?
    }

    private let lock = NSLock()
    private let replica: Replica
    private let logger: Logger
    let maxWatches: Int
    let pollInterval: Duration
    private var watches: [UInt64: Watch] = [:]
    private var byPeer: [String: UInt64] = [:]
    private var nextID: UInt64 = 0
    private var generationValue: UInt64 = 0
    private var poller: Task<Void, Never>?
    private var probe: ChangeProbe?

    /// The longest wait granted, whatever the request asks.
    static let maxWait: Duration = .seconds(25)

    init(replica: Replica, maxWatches: Int, pollInterval: Duration = .milliseconds(5), logger: Logger) {
        self.replica = replica
        self.maxWatches = max(1, maxWatches)
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// How many times the replica changed since the hub began (compare before and after a check).
    var generation: UInt64 { lock.withLock { generationValue } }

    /// Waits parked now.
    var parked: Int { lock.withLock { watches.count } }

    /// Parks a wait of `peer`, ending its earlier one; `nil` when `maxWatches` are parked.
    func park(peer: String) -> Ticket? {
        lock.withLock {
            if let earlier = byPeer[peer] { endLocked(earlier) }
            guard watches.count < maxWatches else { return nil }
            nextID += 1
            watches[nextID] = Watch(peer: peer)
            byPeer[peer] = nextID
            // The probe is made before the wait's first check and kept: a commit after that check
            // is seen by the next poll, even when the polling task starts only later.
            if probe == nil {
                do {
                    probe = try replica.changeProbe()
                } catch {
                    // Waits then end at their deadlines only (the peers' rounds go on).
                    logger.warning("live: cannot watch the replica file", metadata: ["error": "\(error)"])
                }
            }
            if poller == nil, let probe { poller = startPolling(probe) }
            return Ticket(id: nextID)
        }
    }

    /// Removes a wait (its answer is sent); the last one out stops the polling.
    func leave(_ ticket: Ticket) {
        lock.withLock {
            endLocked(ticket.id)
            if let watch = watches.removeValue(forKey: ticket.id), byPeer[watch.peer] == ticket.id {
                byPeer[watch.peer] = nil
            }
            if watches.isEmpty {
                poller?.cancel()
                poller = nil
            }
        }
    }

    /// Ends a wait: its deadline passed, its connection closed, or its peer asked again.
    func end(_ ticket: Ticket) { lock.withLock { endLocked(ticket.id) } }

    func isEnded(_ ticket: Ticket) -> Bool { lock.withLock { watches[ticket.id]?.ended ?? true } }

    /// Returns once the replica changed after `generation`, or the wait ended.
    func wait(_ ticket: Ticket, after generation: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.withLock {
                guard generationValue == generation, let watch = watches[ticket.id], !watch.ended else {
                    continuation.resume()
                    return
                }
                watches[ticket.id]?.continuation = continuation
            }
        }
    }

    /// Wakes every parked wait (the replica changed).
    func notify() {
        lock.withLock {
            generationValue &+= 1
            for id in Array(watches.keys) {
                watches[id]?.continuation?.resume()
                watches[id]?.continuation = nil
            }
        }
    }

    private func endLocked(_ id: UInt64) {
        guard watches[id] != nil else { return }
        watches[id]?.ended = true
        watches[id]?.continuation?.resume()
        watches[id]?.continuation = nil
    }

    private func startPolling(_ probe: ChangeProbe) -> Task<Void, Never> {
        let replica = replica
        let interval = pollInterval
        return Task { [weak self] in
            while !Task.isCancelled {
                if (try? probe.changed()) == true {
                    // Local edits are published here, so a wait that checks sees them signed.
                    _ = try? await replica.perform { try $0.versionVector() }
                    self?.notify()
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
