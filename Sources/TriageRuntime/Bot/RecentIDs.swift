/// A bounded set of the ids seen last: the oldest is forgotten when a new one comes in full.
struct RecentIDs {
    let capacity: Int
    private var members: Set<Int64> = []
    private var order: [Int64] = []
    private var head = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func contains(_ id: Int64) -> Bool { members.contains(id) }

    mutating func insert(_ id: Int64) {
        guard members.insert(id).inserted else { return }
        if order.count < capacity {
            order.append(id)
        } else {
            members.remove(order[head])
            order[head] = id
            head = (head + 1) % capacity
        }
    }
}
