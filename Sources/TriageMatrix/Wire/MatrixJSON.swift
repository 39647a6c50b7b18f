import Foundation

/// Decoding and encoding of the homeserver's JSON, tolerant by design: a field of the wrong
/// type reads as absent, a number out of range reads as absent, and one malformed element of
/// an array (an event that is not an object) is left out without losing the others. Nothing
/// from the network can make decoding trap.
enum MatrixJSON {
    /// A decoder for homeserver answers.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }

    /// A request or event body.
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        try JSONEncoder().encode(value)
    }

    /// Any key, for objects whose keys are data (room ids) or that are only checked to be objects.
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }

    /// Consumes any value (to step over an array element that did not decode).
    struct Skip: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    /// An object whose content is not read: decoding fails only when the value is not an object.
    struct AnyObject: Decodable {
        init(from decoder: any Decoder) throws {
            _ = try decoder.container(keyedBy: Key.self)
        }
    }
}

/// An array whose elements that do not decode are left out and counted.
struct LenientArray<Element: Decodable>: Decodable {
    var elements: [Element] = []
    /// Elements left out because they did not decode.
    var dropped = 0

    init() {}

    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        while !container.isAtEnd {
            if let element = try? container.decode(Element.self) {
                elements.append(element)
            } else {
                dropped += 1
                // A failed decode does not move past the element; this does.
                guard (try? container.decode(MatrixJSON.Skip.self)) != nil else { break }
            }
        }
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or nil when it is absent, null or of another type.
    func lenient<T: Decodable>(_ type: T.Type, forKey key: Key) -> T? {
        (try? decodeIfPresent(type, forKey: key)) ?? nil
    }

    /// A string at `key`, or nil.
    func string(_ key: Key) -> String? { lenient(String.self, forKey: key) }

    /// A JSON number at `key` as milliseconds (`origin_server_ts`, `retry_after_ms`): an
    /// integer, or a finite float in range; anything else (a string, 1e400, -1e30) is nil.
    func milliseconds(_ key: Key) -> Int64? {
        if let n = lenient(Int64.self, forKey: key) { return n }
        guard let d = lenient(Double.self, forKey: key), d.isFinite, d > -9.2e18, d < 9.2e18 else { return nil }
        return Int64(d)
    }

    /// The elements of the array at `key` that decode (none when it is absent or not an array).
    func lenientArray<T: Decodable>(_ type: T.Type, forKey key: Key) -> LenientArray<T> {
        lenient(LenientArray<T>.self, forKey: key) ?? LenientArray()
    }
}
