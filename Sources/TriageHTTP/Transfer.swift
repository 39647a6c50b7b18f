import CCurl
import Foundation
import TriageCore

/// One request in flight: its easy handle, buffers, and the continuation to resume. Lives on
/// the transfer thread only.
final class Transfer {
    let request: HTTPRequest
    var id = 0
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var responseBody = Data()
    var responseHeaders: [String: String] = [:]
    var continuation: CheckedContinuation<HTTPResponse, Error>?

    init(request: HTTPRequest) {
        self.request = request
    }

    deinit {
        if let easy { curl_easy_cleanup(easy) }
        if let headerList { curl_slist_free_all(headerList) }
    }

    /// The host of the URL, for error messages (never the path: it may hold a token).
    var host: String { Self.host(of: request.url) }

    static func host(of url: String) -> String {
        URLComponents(string: url)?.host ?? "?"
    }

    func finish(_ result: Result<HTTPResponse, Error>) {
        let c = continuation
        continuation = nil
        c?.resume(with: result)
    }

    /// Creates and configures the easy handle.
    func prepare(userAgent: String) throws {
        guard let easy = curl_easy_init() else {
            throw HTTPError(.network, message: "curl_easy_init failed", host: host)
        }
        self.easy = easy
        func check(_ code: CURLcode) throws {
            guard code == CURLE_OK else {
                throw HTTPError(.invalidRequest, message: String(cString: curl_easy_strerror(code)), host: host)
            }
        }
        try check(triage_easy_setopt_string(easy, CURLOPT_URL, request.url))
        try check(triage_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        try check(triage_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000)))
        try check(triage_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000)))
        try check(triage_easy_setopt_string(easy, CURLOPT_USERAGENT, userAgent))
        try check(triage_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, ""))
        try check(triage_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        let method = request.method.uppercased()
        if let body = request.body {
            try check(triage_easy_setopt_offset(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            let code = body.withUnsafeBytes { raw -> CURLcode in
                let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
                return triage_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base))
            }
            try check(code)
            if method != "POST" { try check(triage_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)) }
        } else if method == "POST" {
            try check(triage_easy_setopt_offset(easy, CURLOPT_POSTFIELDSIZE_LARGE, 0))
            try check(triage_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, ""))
        } else if method != "GET" {
            try check(triage_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method))
        }
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        list = curl_slist_append(list, "Expect:")
        headerList = list
        try check(triage_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list))
        let me = Unmanaged.passUnretained(self).toOpaque()
        try check(triage_easy_setopt_write_function(easy, CURLOPT_WRITEFUNCTION, transferWriteBody))
        try check(triage_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me))
        try check(triage_easy_setopt_write_function(easy, CURLOPT_HEADERFUNCTION, transferWriteHeader))
        try check(triage_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me))
    }
}

/// libcurl's body callback: appends to the transfer's buffer.
private let transferWriteBody: triage_write_callback = { ptr, size, count, userdata in
    guard let ptr, let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let n = size * count
    ptr.withMemoryRebound(to: UInt8.self, capacity: n) { transfer.responseBody.append($0, count: n) }
    return n
}

/// libcurl's header callback: one header line per call; a new status line resets them.
/// Parsed at the byte level (the name lowercased in ASCII, the value trimmed of blanks and
/// CR LF): only the two strings kept are made.
private let transferWriteHeader: triage_write_callback = { ptr, size, count, userdata in
    guard let ptr, let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let n = size * count
    ptr.withMemoryRebound(to: UInt8.self, capacity: n) { base in
        let line = UnsafeBufferPointer(start: base, count: n)
        if let header = HeaderLine(line) {
            transfer.responseHeaders[header.name] = header.value
        } else if line.starts(with: HeaderLine.statusPrefix) {
            transfer.responseHeaders = [:]
        }
    }
    return n
}
