import CoreMetrics

/// The duration histograms the server and the client feed (swift-metrics; the process chooses the backend).
public enum SyncMetrics {
    /// Where applied transactions came from.
    public enum ApplySource: String, Sendable {
        case push, pull
    }

    /// How long applying one batch took.
    public static func applyDuration(_ source: ApplySource) -> CoreMetrics.Timer {
        CoreMetrics.Timer(label: "liaison_apply_duration_seconds", dimensions: [("source", source.rawValue)])
    }

    /// How long one outbound sync round took, by result (`ok` or `failed`).
    public static func roundDuration(ok: Bool) -> CoreMetrics.Timer {
        CoreMetrics.Timer(label: "liaison_round_duration_seconds", dimensions: [("result", ok ? "ok" : "failed")])
    }

    /// Requests refused by the peer authenticator.
    public static let authFailures = CoreMetrics.Counter(label: "liaison_auth_failures_total")
}

extension Duration {
    /// Whole nanoseconds, for swift-metrics timers.
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
