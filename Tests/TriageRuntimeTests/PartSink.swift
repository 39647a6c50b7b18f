import Foundation
import Synchronization
import TriageChat
import TriageCore

/// A sink for the outbox's tests: every reply is `parts` platform messages; `fail` decides,
/// per call, whether a part is refused (and how); every call is recorded.
final class PartSink: ChatSink {
    let name = "parts"
    let parts: Int
    let limit: SendRateLimit?
    let fail: @Sendable (_ key: String, _ part: Int, _ call: Int) -> DeliveryError?

    struct Call: Equatable, CustomStringConvertible {
        var key: String
        var part: Int
        var delivered: Bool
        var description: String { "\(key)#\(part)\(delivered ? "" : "!")" }
    }
    private let calls = Mutex<[Call]>([])

    init(parts: Int = 3, limit: SendRateLimit? = nil,
         fail: @escaping @Sendable (String, Int, Int) -> DeliveryError? = { _, _, _ in nil }) {
        self.parts = parts
        self.limit = limit
        self.fail = fail
    }

    /// Every call so far, in order.
    var made: [Call] { calls.withLock { $0 } }
    /// The parts delivered so far, as `key#part`.
    var delivered: [String] { made.filter(\.delivered).map(\.description) }

    func messageCount(for reply: Reply) -> Int { parts }

    func sendRateLimit(room: String) -> SendRateLimit? { limit }

    func send(_ message: OutgoingMessage, part: Int) async throws -> [String] {
        let n = calls.withLock { $0.count }
        if let error = fail(message.key, part, n) {
            calls.withLock { $0.append(Call(key: message.key, part: part, delivered: false)) }
            throw error
        }
        calls.withLock { $0.append(Call(key: message.key, part: part, delivered: true)) }
        return ["\(message.key)/\(part)"]
    }

    /// Waits until `count` parts were delivered, or `timeout` seconds passed.
    func waitForDelivered(_ count: Int, timeout: Double = 10) async -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, delivered.count < count {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return delivered
    }
}
