import Foundation
import NIOCore

/// The open connections of one server, shared by its event loops: how many there are, and which
/// may be closed to make room for a new one.
///
/// A connection is *idle* while no whole request head has arrived on it (a kept-alive client
/// between requests, or an attacker's silent or half-sent request). At the limit, a new connection
/// closes the one idle the longest: holding many idle connections cannot keep a legitimate peer
/// out, since its request head follows its connection at once. Requests whose head has arrived are
/// bounded otherwise (an unknown key is refused at once, a known one by its peer's request slots).
final class ConnectionRegistry: @unchecked Sendable {
    private struct Entry {
        var channel: any Channel
        var order: UInt64
        var isBusy: Bool
    }

    private let lock = NSLock()
    private var entries: [ObjectIdentifier: Entry] = [:]
    private var next: UInt64 = 0
    private var hangUps: [ObjectIdentifier: @Sendable () -> Void] = [:]
    let limit: Int
    /// Connections closed to make room, and connections refused because every one was busy.
    private(set) var evicted = 0
    private(set) var refused = 0

    init(limit: Int) { self.limit = limit }

    var count: Int { lock.withLock { entries.count } }

    /// Registers `channel`; returns the connection to close to make room, or `channel` itself when
    /// every open connection has a request under way.
    func admit(_ channel: any Channel) -> (any Channel)? {
        lock.withLock {
            next += 1
            var victim: (any Channel)?
            if entries.count >= limit {
                if let oldest = entries.filter({ !$0.value.isBusy }).min(by: { $0.value.order < $1.value.order }) {
                    entries[oldest.key] = nil
                    evicted += 1
                    victim = oldest.value.channel
                } else {
                    refused += 1
                    return channel
                }
            }
            entries[ObjectIdentifier(channel)] = Entry(channel: channel, order: next, isBusy: false)
            return victim
        }
    }

    /// Marks a request head arrived (`true`) or an answer sent (`false`: idle from now on).
    func setBusy(_ channel: any Channel, _ isBusy: Bool) {
        lock.withLock {
            let id = ObjectIdentifier(channel)
            guard entries[id] != nil else { return }
            entries[id]?.isBusy = isBusy
            if !isBusy {
                next += 1
                entries[id]?.order = next
            }
        }
    }

    func remove(_ channel: any Channel) {
        let action = lock.withLock {
            entries[ObjectIdentifier(channel)] = nil
            return hangUps.removeValue(forKey: ObjectIdentifier(channel))
        }
        action?()
    }

    /// What to do when the client of `channel` hangs up or the connection closes (once; a parked live wait ends).
    func onHangUp(_ channel: any Channel, _ action: @escaping @Sendable () -> Void) {
        lock.withLock { hangUps[ObjectIdentifier(channel)] = action }
    }

    /// Forgets the action of `channel` (the request it was for is answered).
    func clearHangUp(_ channel: any Channel) {
        _ = lock.withLock { hangUps.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The client closed its side of `channel`.
    func inputClosed(_ channel: any Channel) {
        lock.withLock { hangUps.removeValue(forKey: ObjectIdentifier(channel)) }?()
    }
}
