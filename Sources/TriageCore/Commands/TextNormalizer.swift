/// Undoes what phone keyboards do to command lines: smart quotes, long dashes, odd spaces.
public enum TextNormalizer {
    static let doubleQuotes: Set<Character> = ["\u{201C}", "\u{201D}", "\u{201E}", "\u{201F}", "\u{2033}", "\u{00AB}", "\u{00BB}"]
    static let singleQuotes: Set<Character> = ["\u{2018}", "\u{2019}", "\u{201A}", "\u{201B}", "\u{2032}"]
    static let spaces: Set<Character> = ["\u{00A0}", "\u{2007}", "\u{202F}", "\u{2009}", "\u{200A}", "\u{3000}", "\t"]
    static let longDashes: Set<Character> = ["\u{2014}", "\u{2013}", "\u{2012}", "\u{2015}", "\u{2212}"]

    /// Returns `text` with smart quotes made straight, unusual spaces made plain, and a long
    /// dash right before a word turned into `--` (phones turn `--older` into `—older`).
    public static func normalize(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var previous: Character = " "
        let chars = Array(text)
        for (i, ch) in chars.enumerated() {
            let next: Character = i + 1 < chars.count ? chars[i + 1] : " "
            var mapped: String
            if doubleQuotes.contains(ch) {
                mapped = "\""
            } else if singleQuotes.contains(ch) {
                mapped = "'"
            } else if spaces.contains(ch) {
                mapped = " "
            } else if longDashes.contains(ch) && previous == " " && next.isLetter {
                mapped = "--"
            } else if ch == "\u{200B}" || ch == "\u{FEFF}" {
                mapped = ""
            } else {
                mapped = String(ch)
            }
            out += mapped
            if let last = mapped.last { previous = last }
        }
        return out
    }
}
