import Foundation

/// What the follower last saw, for `/alerts` (shared by the poll loop and the commands).
public actor AlertBoard {
    public struct View: Sendable {
        public var snapshot: AlertSnapshot
        public var health: AlertmanagerHealth
        public var lastPoll: Date?
    }

    private var view: View

    public init(urls: [String]) {
        view = View(snapshot: AlertSnapshot(), health: AlertmanagerHealth(urls: urls), lastPoll: nil)
    }

    public func update(_ new: View) { view = new }

    public func current() -> View { view }
}
