import Foundation

/// What the server lets requests hold at once: buffered body bytes over all requests, and requests
/// per peer. A request that does not fit is answered 503 with `Retry-After` rather than queued.
final class RequestBudget: @unchecked Sendable {
    private let lock = NSLock()
    private let maxBufferedBytes: Int
    private let maxRequestsPerPeer: Int
    private var bufferedBytes = 0
    private var requests: [String: Int] = [:]

    init(maxBufferedBytes: Int, maxRequestsPerPeer: Int) {
        self.maxBufferedBytes = maxBufferedBytes
        self.maxRequestsPerPeer = maxRequestsPerPeer
    }

    /// What a request was granted; give it back with `release(_:)`.
    struct Grant {
        var peer: String
        var bytes: Int
    }

    /// Why a request did not fit.
    enum Refusal: Error {
        case peerBusy(Int)
        case serverFull
    }

    /// Reserves one request slot of `peer` and `bytes` of buffer.
    func reserve(peer: String, bytes: Int) -> Result<Grant, Refusal> {
        lock.withLock {
            let running = requests[peer, default: 0]
            guard running < maxRequestsPerPeer else { return .failure(.peerBusy(maxRequestsPerPeer)) }
            guard bufferedBytes + bytes <= maxBufferedBytes else { return .failure(.serverFull) }
            requests[peer] = running + 1
            bufferedBytes += bytes
            return .success(Grant(peer: peer, bytes: bytes))
        }
    }

    func release(_ grant: Grant) {
        lock.withLock {
            bufferedBytes -= grant.bytes
            let left = requests[grant.peer, default: 1] - 1
            requests[grant.peer] = left > 0 ? left : nil
        }
    }

    /// Body bytes reserved now (for tests and `status`).
    var reservedBytes: Int { lock.withLock { bufferedBytes } }
}
