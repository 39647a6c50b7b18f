import Foundation

extension Redaction {
    /// `json` with ``redact(_:)`` applied to every string value and key, staying valid JSON
    /// (a literal cut short inside one value must not swallow the rest of the document).
    /// Text that is not JSON is redacted as text; JSON without secrets comes back unchanged.
    public static func redactJSON(_ json: String) -> String {
        guard mightContainSecret(json) else { return json }
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) else {
            return redact(json)
        }
        var changed = false
        func walk(_ value: Any) -> Any {
            switch value {
            case let s as String:
                let r = redact(s)
                if r != s { changed = true }
                return r
            case let a as [Any]:
                return a.map(walk)
            case let d as [String: Any]:
                var out: [String: Any] = [:]
                for (k, v) in d {
                    let rk = redact(k)
                    if rk != k { changed = true }
                    // `{"password": "x"}`: the key names the secret, the value alone shows nothing.
                    if isSecretKey(k), !(v is [Any]), !(v is [String: Any]), !(v is NSNull) {
                        changed = true
                        out[rk] = mask
                    } else {
                        out[rk] = walk(v)
                    }
                }
                return out
            default:
                return value
            }
        }
        let redacted = walk(object)
        guard changed else { return json }
        guard let data = try? JSONSerialization.data(withJSONObject: redacted, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) else {
            return redact(json)
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// A JSON key that names a secret, by the text rules' words: one ending in `password`,
    /// `passwd`, `pwd` or `secret` (`password`, `sslpassword`, `client_secret`, `PGPASSWORD`).
    static func isSecretKey(_ key: String) -> Bool {
        let k = key.lowercased()
        return ["password", "passwd", "pwd", "secret"].contains { k.hasSuffix($0) }
    }
}
