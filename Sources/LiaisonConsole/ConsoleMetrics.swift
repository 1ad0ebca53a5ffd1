import CoreMetrics
import Foundation
import Liaison
import Prometheus

/// `/metrics` in Prometheus text: peer health and open conflicts read from the replica at each
/// scrape, and the apply and round duration histograms the process recorded (swift-metrics).
/// Labels are peer names, directions, table names and fixed reasons only: never row ids or personal data.
public final class ConsoleMetrics: Sendable {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    let replica: Replica
    public let registry: PrometheusCollectorRegistry

    public init(replica: Replica, registry: PrometheusCollectorRegistry) {
        self.replica = replica
        self.registry = registry
    }

    /// Sends swift-metrics to `registry` (once per process; later calls keep the first backend).
    public static func bootstrap(_ registry: PrometheusCollectorRegistry) {
        Bootstrap.once(registry)
    }

    private enum Bootstrap {
        nonisolated(unsafe) static var done = false
        static let lock = NSLock()
        static func once(_ registry: PrometheusCollectorRegistry) {
            lock.lock()
            defer { lock.unlock() }
            guard !done else { return }
            done = true
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = [
                .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250),
                .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
            ]
            MetricsSystem.bootstrap(factory)
        }
    }

    /// The current text.
    public func render() async throws -> String {
        let (health, conflicts, oldest) = try await replica.perform {
            (try $0.peerHealth(), try $0.openConflictsByTable(), try $0.oldestOpenConflictByTable())
        }
        let now = Date()
        for peer in health {
            let labels = [("peer", peer.peer)]
            gauge(
                "peer_lacks_transactions", labels: labels,
                help: "Transactions this replica holds that the peer lacked at the last vector seen from it"
            ).set(Double(peer.peerLacks ?? 0))
            gauge(
                "peer_we_lack_transactions", labels: labels,
                help: "Transactions the peer held that this replica lacks, at the last vector seen from it"
            ).set(Double(peer.weLack ?? 0))
            gauge(
                "peer_lacks_since_seconds", labels: labels,
                help: "Age of the oldest transaction the peer lacks (0 when it lacks none)"
            ).set(Self.age(peer.peerLacksSince, now: now))
            gauge(
                "peer_auth_failures", labels: labels,
                help: "Requests naming the peer's key that failed authentication (bad, stale or misdirected signature, altered body, replay)"
            ).set(Double(peer.authFailures))
            gauge(
                "peer_held_here_transactions", labels: labels,
                help: "Transactions the peer sent that are held in this replica's quarantine"
            ).set(Double(peer.heldHere))
            gauge(
                "peer_held_there_transactions", labels: labels,
                help: "Transactions of this replica the peer said it holds in its quarantine"
            ).set(Double(peer.heldThere))
            for kind in PeerRefusalKind.all {
                gauge(
                    "peer_refused_requests", labels: [("peer", peer.peer), ("reason", kind)],
                    help: "Requests from the peer this replica's server refused, by reason (the security log's event names)"
                ).set(Double(peer.refused[kind] ?? 0))
            }
            gauge("peer_healthy", labels: labels, help: "1 when the peer's state is ok, else 0").set(
                peer.state == "ok" ? 1.0 : 0.0)
            for (direction, round) in [("in", peer.lastInbound), ("out", peer.lastOutbound)] {
                let roundLabels = [("peer", peer.peer), ("direction", direction)]
                gauge(
                    "peer_last_round_timestamp_seconds", labels: roundLabels,
                    help: "When the last sync round ended (Unix time, 0 for never)"
                ).set(round.flatMap { Self.date($0.at)?.timeIntervalSince1970 } ?? 0)
                gauge(
                    "peer_last_round_ok", labels: roundLabels,
                    help: "1 when the last sync round succeeded, 0 when it failed or never ran"
                ).set(round?.ok == true ? 1.0 : 0.0)
            }
        }
        for table in replica.schema.tables.map(\.name) {
            gauge("open_conflicts", labels: [("table", table)], help: "Open conflicts by table").set(
                Double(conflicts[table] ?? 0))
            let since = oldest[table].map { Double($0) / 1000 }
            gauge(
                "oldest_open_conflict_age_seconds", labels: [("table", table)],
                help: "How long the table's oldest open conflict has waited (0 when none is open)"
            ).set(since.map { max(0, now.timeIntervalSince1970 - $0) } ?? 0)
        }
        return registry.emitToString()
    }

    /// A gauge named `liaison_NAME`.
    private func gauge(_ name: String, labels: [(String, String)], help: String) -> Prometheus.Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(namespace: "liaison", metricName: name, unitName: "", helpText: help),
            labels: labels)
    }

    static func date(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }

    /// Seconds since an HLC text such as `2026-11-30T13:00:00.123Z+0002`.
    static func age(_ text: String?, now: Date) -> Double {
        guard let text else { return 0 }
        let base = text.split(separator: "+").first.map(String.init) ?? text
        let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        guard let date = try? format.parse(base) else { return 0 }
        return max(0, now.timeIntervalSince(date))
    }
}
