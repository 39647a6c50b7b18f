import Foundation

/// Reachability of each Alertmanager, for `/alerts` and for the poll loop's backoff.
public struct AlertmanagerHealth: Sendable, Equatable {
    public struct Peer: Sendable, Equatable {
        public var url: String
        /// When the current run of failures began (nil while reachable).
        public var failingSince: Date?
        public var lastError: String?
        public var lastSuccess: Date?
        /// Since when it has answered without a failure in between (restart of Triage: distant past).
        public var upSince: Date
        /// Not asked again before this (backoff).
        public var nextAttempt: Date
        public var attempt: Int
        /// Alertmanager's own start time, from `/api/v2/status`: a change means it restarted.
        public var startedAt: Date?

        public var reachable: Bool { failingSince == nil }
    }

    public private(set) var peers: [Peer]
    public var baseDelay: Double
    public var maxDelay: Double

    public init(urls: [String], baseDelay: Double = 1, maxDelay: Double = 300) {
        peers = urls.map { Peer(url: $0, upSince: .distantPast, nextAttempt: .distantPast, attempt: 0) }
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The peers to ask now.
    public func due(at now: Date) -> [String] {
        peers.filter { $0.nextAttempt <= now }.map(\.url)
    }

    public mutating func succeeded(_ url: String, at now: Date) {
        guard let i = peers.firstIndex(where: { $0.url == url }) else { return }
        if peers[i].failingSince != nil { peers[i].upSince = now }
        peers[i].failingSince = nil
        peers[i].lastError = nil
        peers[i].lastSuccess = now
        peers[i].attempt = 0
        peers[i].nextAttempt = .distantPast
    }

    /// Records a failure; the next attempt is backed off exponentially with jitter in [d/2, d].
    public mutating func failed(_ url: String, error: String, at now: Date, jitter: Double = Double.random(in: 0.5...1)) {
        guard let i = peers.firstIndex(where: { $0.url == url }) else { return }
        if peers[i].failingSince == nil { peers[i].failingSince = now }
        peers[i].lastError = error
        let d = min(maxDelay, baseDelay * pow(2, Double(min(peers[i].attempt, 30))))
        peers[i].attempt += 1
        peers[i].nextAttempt = now.addingTimeInterval(d * jitter)
    }

    /// Notes Alertmanager's start time; true when it changed (it restarted and lost its alerts
    /// until Prometheus sends them again).
    public mutating func noteStart(_ url: String, startedAt: Date, at now: Date) -> Bool {
        guard let i = peers.firstIndex(where: { $0.url == url }) else { return false }
        defer { peers[i].startedAt = startedAt }
        guard let known = peers[i].startedAt else { return false }
        if abs(known.timeIntervalSince(startedAt)) > 1 {
            peers[i].upSince = now
            return true
        }
        return false
    }

    /// Whether a poll at `now` may count missing alerts: every peer that answered has been up
    /// for `grace` seconds.
    public func missesCount(answered: [String], at now: Date, grace: Double) -> Bool {
        !answered.isEmpty && peers.filter { answered.contains($0.url) }.allSatisfy { now.timeIntervalSince($0.upSince) >= grace }
    }

    public var allFailing: Bool { peers.allSatisfy { !$0.reachable } }

    /// The earliest next attempt of a failing peer.
    public var nextRetry: Date? { peers.filter { !$0.reachable }.map(\.nextAttempt).min() }
}
