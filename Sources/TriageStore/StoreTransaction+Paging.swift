import Foundation
import GRDB

extension StoreTransaction {
    // MARK: Pages

    /// Inserts a page and returns it with its id.
    public func insert(_ page: PageRecord) throws -> PageRecord {
        var copy = page
        try copy.insert(db)
        wakeEscalation()
        return copy
    }

    public func update(_ page: PageRecord) throws {
        try page.update(db)
        wakeEscalation()
    }

    /// After this transaction commits, the escalation timer looks again at what is due (a
    /// page started or stopped by a command, a delivery queued).
    func wakeEscalation() {
        guard let signals else { return }
        db.afterNextTransaction { _ in signals.pagingChanged() }
    }

    public func page(id: Int64) throws -> PageRecord? {
        try PageRecord.fetchOne(db, key: id)
    }

    /// The automatic page of an incident that is not resolved yet, if there is one (a
    /// reopened incident is paged again).
    public func autoPage(incident: Int64) throws -> PageRecord? {
        try PageRecord.filter(PageRecord.Columns.incidentID == incident && PageRecord.Columns.auto == true && PageRecord.Columns.resolvedAt == nil).fetchOne(db)
    }

    /// Pages still escalating or waiting for an acknowledgement (pending, waiting, exhausted)
    /// that have at least one trigger delivered to `providers`, oldest first.
    public func pagesAwaitingAcknowledgement(providers: [String], limit: Int = 100) throws -> [PageRecord] {
        guard !providers.isEmpty else { return [] }
        return try PageRecord.fetchAll(db, sql: """
            SELECT p.* FROM page p
            WHERE p.phase IN ('pending', 'waiting', 'exhausted')
              AND EXISTS (SELECT 1 FROM pageDelivery d WHERE d.pageID = p.id AND d.action = 'trigger' AND d.status = 'sent'
                            AND d.provider IN (\(providers.map { _ in "?" }.joined(separator: ", "))))
            ORDER BY p.id LIMIT ?
            """, arguments: StatementArguments(providers) + [limit])
    }

    /// Pages of a room in the given phases, newest first.
    public func pages(platform: String, room: String, phases: [String]) throws -> [PageRecord] {
        try PageRecord.filter(PageRecord.Columns.platform == platform && PageRecord.Columns.room == room && phases.contains(PageRecord.Columns.phase))
            .order(PageRecord.Columns.id.desc).fetchAll(db)
    }

    /// Pages of an incident that are not resolved.
    public func unresolvedPages(incident: Int64) throws -> [PageRecord] {
        try PageRecord.filter(PageRecord.Columns.incidentID == incident && PageRecord.Columns.phase != "resolved").order(PageRecord.Columns.id).fetchAll(db)
    }

    /// Pages whose wait has ended at `date`.
    public func duePages(at date: Date, limit: Int = 100) throws -> [PageRecord] {
        try PageRecord.filter(PageRecord.Columns.phase == "waiting" && PageRecord.Columns.nextAt <= date)
            .order(PageRecord.Columns.nextAt).limit(limit).fetchAll(db)
    }

    /// The earliest time a waiting page is due, if any.
    public func nextPageDue() throws -> Date? {
        try Date.fetchOne(db, sql: "SELECT MIN(nextAt) FROM page WHERE phase = 'waiting'")
    }

    /// Records that a level was notified; false when it already was.
    public func markNotified(page: Int64, level: Int, round: Int, at date: Date) throws -> Bool {
        try db.execute(sql: "INSERT OR IGNORE INTO pageNotification(pageID, level, round, notifiedAt) VALUES (?, ?, ?, ?)",
                       arguments: [page, level, round, date])
        return db.changesCount == 1
    }

    /// The levels notified for a page, in order: (level, round, time).
    public func notifications(page: Int64) throws -> [(level: Int, round: Int, at: Date)] {
        try Row.fetchAll(db, sql: "SELECT level, round, notifiedAt FROM pageNotification WHERE pageID = ? ORDER BY notifiedAt, round, level",
                         arguments: [page]).map { ($0["level"], $0["round"], $0["notifiedAt"]) }
    }

    // MARK: Deliveries

    /// Queues a provider call; one with the same provider, action and key is ignored.
    @discardableResult
    public func enqueue(_ delivery: PageDelivery) throws -> Bool {
        var copy = delivery
        try copy.insert(db, onConflict: .ignore)
        guard db.changesCount == 1 else { return false }
        wakeEscalation()
        return true
    }

    public func update(_ delivery: PageDelivery) throws {
        try delivery.update(db)
    }

    public func delivery(id: Int64) throws -> PageDelivery? {
        try PageDelivery.fetchOne(db, key: id)
    }

    public func deliveries(page: Int64) throws -> [PageDelivery] {
        try PageDelivery.filter(PageDelivery.Columns.pageID == page).order(PageDelivery.Columns.id).fetchAll(db)
    }

    /// Pending deliveries due at `date`, oldest first; a delivery waits while an earlier one
    /// with the same provider key (the key up to `#`) is unfinished, so a trigger goes out
    /// before its acknowledge, and every level's trigger before the acknowledge of the alert.
    public func dueDeliveries(at date: Date, limit: Int = 50) throws -> [PageDelivery] {
        try PageDelivery.fetchAll(db, sql: """
            SELECT d.* FROM pageDelivery d
            WHERE d.status = 'pending' AND d.nextAttemptAt <= ?
              AND NOT EXISTS (SELECT 1 FROM pageDelivery e
                              WHERE substr(e.dedupKey, 1, instr(e.dedupKey || '#', '#') - 1) = substr(d.dedupKey, 1, instr(d.dedupKey || '#', '#') - 1)
                                AND e.provider = d.provider AND e.id < d.id AND e.status IN ('pending', 'sending'))
            ORDER BY d.id LIMIT ?
            """, arguments: [date, limit])
    }

    /// The earliest time a pending delivery is due, if any.
    public func nextDeliveryDue() throws -> Date? {
        try Date.fetchOne(db, sql: "SELECT MIN(nextAttemptAt) FROM pageDelivery WHERE status = 'pending'")
    }

    /// Deliveries left `sending` by a process that stopped mid-call go back to `pending`.
    public func requeueInterruptedDeliveries() throws {
        try db.execute(sql: "UPDATE pageDelivery SET status = 'pending' WHERE status = 'sending'")
    }

    // MARK: On-call overrides

    @discardableResult
    public func insert(_ override: OnCallOverrideRecord) throws -> OnCallOverrideRecord {
        var copy = override
        try copy.insert(db)
        wakeEscalation()
        return copy
    }

    /// Overrides that have not ended at `date`, in creation order.
    public func onCallOverrides(endingAfter date: Date) throws -> [OnCallOverrideRecord] {
        try OnCallOverrideRecord.filter(OnCallOverrideRecord.Columns.endsAt > date).order(OnCallOverrideRecord.Columns.id).fetchAll(db)
    }
}
