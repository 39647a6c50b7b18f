import Foundation
import Synchronization
import TriageChat
import TriageCore

/// An in-memory chat platform for tests (a source and a sink): tests ``push(_:from:role:)``
/// messages, the real poller hands them to the real dispatcher, and replies the real outbox
/// sends arrive in ``sent``. Faithful to what the runtime expects of a platform: a cursor per
/// item, rooms and roles from an ``AccessPolicy``.
public final class MemoryChat: ChatPlatform {
    public let name: String
    let access: AccessPolicy

    struct State {
        var queued: [(id: Int, room: String, sender: String, text: String)] = []
        var nextID = 1
        var waiters: [CheckedContinuation<Void, Never>] = []
        var sent: [OutgoingMessage] = []
        var started = false
    }
    private let state = Mutex(State())

    public init(name: String = "memory", access: AccessPolicy) {
        self.name = name
        self.access = access
    }

    /// Queues a message as if `sender` typed `text` in `room`; returns its message id.
    @discardableResult
    public func push(_ text: String, room: String, from sender: String) -> String {
        let (id, waiters) = state.withLock { s -> (Int, [CheckedContinuation<Void, Never>]) in
            let id = s.nextID
            s.nextID += 1
            s.queued.append((id, room, sender, text))
            let w = s.waiters
            s.waiters = []
            return (id, w)
        }
        for w in waiters { w.resume() }
        return "\(id)"
    }

    /// Every reply sent so far, in order.
    public var sent: [OutgoingMessage] { state.withLock { $0.sent } }

    /// Whether ``start(host:)`` ran.
    public var started: Bool { state.withLock { $0.started } }

    /// Waits until `count` replies were sent, or `timeout` seconds passed.
    public func waitForReplies(_ count: Int, timeout: Double = 10) async -> [OutgoingMessage] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let s = sent
            if s.count >= count { return s }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return sent
    }

    public func start(host: any PlatformHost) async throws {
        state.withLock { $0.started = true }
    }

    public func poll(cursor: String?) async throws -> PollBatch {
        let after = cursor.flatMap { Int($0) } ?? 0
        while true {
            try Task.checkCancellation()
            let items = state.withLock { s in s.queued.filter { $0.id > after } }
            if !items.isEmpty {
                return PollBatch(items: items.map { item in
                    let role = access.serves(room: item.room) ? access.role(of: item.sender) : nil
                    let message = role.map {
                        InboundMessage(platform: name, room: item.room, sender: item.sender, text: item.text,
                                       messageID: "\(item.id)", role: $0)
                    }
                    return PollItem(message: message, cursor: "\(item.id)")
                }, cursor: nil)
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { s -> Bool in
                        if s.queued.contains(where: { $0.id > after }) { return true }
                        s.waiters.append(c)
                        return false
                    }
                    if ready { c.resume() }
                }
            } onCancel: {
                let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
                    let w = s.waiters
                    s.waiters = []
                    return w
                }
                for w in waiters { w.resume() }
            }
        }
    }

    /// Records the reply (one part); its message id is `<name>-sent-<n>`.
    public func send(_ message: OutgoingMessage, part: Int) async throws -> [String] {
        let n = state.withLock { s in
            s.sent.append(message)
            return s.sent.count
        }
        return ["\(name)-sent-\(n)"]
    }
}

/// ``MemoryChat`` as a plug-in, turned on by a config section of its name.
public struct MemoryChatPlugin: PlatformPlugin {
    public let chat: MemoryChat
    public var section: String { chat.name }

    public init(chat: MemoryChat) {
        self.chat = chat
    }

    public func makePlatform(_ node: YAMLNode, context: PlatformContext) throws -> PlatformParts {
        PlatformParts(platform: chat, access: chat.access)
    }
}
