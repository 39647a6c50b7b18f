/// Finds the known words closest to a mistyped one.
public enum Suggester {
    /// Up to `limit` candidates within a small edit distance of `word`, or that start with it.
    public static func closest(to word: String, among candidates: [String], limit: Int = 3) -> [String] {
        let w = word.lowercased()
        let threshold = max(1, min(3, w.count / 3 + 1))
        var best: [String: Int] = [:]
        for c in candidates {
            let lc = c.lowercased()
            let d: Int = (lc.hasPrefix(w) && !w.isEmpty) ? 0 : distance(w, lc)
            guard d <= threshold else { continue }
            if let old = best[c], old <= d { continue }
            best[c] = d
        }
        let ordered = best.sorted { (a: (key: String, value: Int), b: (key: String, value: Int)) -> Bool in
            a.value != b.value ? a.value < b.value : a.key < b.key
        }
        return ordered.prefix(limit).map { $0.key }
    }

    /// Damerau-Levenshtein (optimal string alignment) distance.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
