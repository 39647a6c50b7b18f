/// Transaction ids for `PUT …/send/m.room.message/{txnId}`, derived from the outbox key (one
/// per command) and the part number, so that a retry after a timeout or a restart reuses the
/// same id and the homeserver posts the message once.
public enum MatrixTransactionID {
    /// `triage-<128-bit FNV-1a of key>-<part>`: stable across processes and versions.
    public static func make(key: String, part: Int) -> String {
        "triage-" + hex(fnv1a(key, seed: 0xcbf2_9ce4_8422_2325)) + hex(fnv1a(key, seed: 0x8422_2325_cbf2_9ce4)) + "-\(part)"
    }

    static func fnv1a(_ s: String, seed: UInt64) -> UInt64 {
        var h = seed
        for byte in s.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
