import Foundation

/// Capped exponential backoff with full jitter.
public struct Backoff: Sendable {
    public var base: Double
    public var cap: Double
    public private(set) var attempt: Int = 0

    public init(base: Double = 0.5, cap: Double = 30) {
        self.base = base
        self.cap = cap
    }

    /// The next delay in seconds (random in [d/2, d]).
    public mutating func next() -> Double {
        let d = min(cap, base * pow(2, Double(attempt)))
        attempt += 1
        return Double.random(in: (d / 2)...d)
    }

    public mutating func reset() {
        attempt = 0
    }
}
