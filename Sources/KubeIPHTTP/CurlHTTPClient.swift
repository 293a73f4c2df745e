import CCurl
import Dispatch
import Synchronization

/// An ``HTTPClient`` backed by libcurl's easy interface.
///
/// Each request gets its own easy handle and runs on a Dispatch global queue, so the blocking
/// `curl_easy_perform` never occupies a thread of Swift's cooperative pool. The calling task
/// resumes when the transfer ends.
///
/// Behaviour, per request:
/// - The method is sent as given (`GET`, `PUT`, `POST`, `PATCH`, `DELETE`, …). `POST`, `PUT` and
///   `PATCH` always carry a body with an explicit `Content-Length` (possibly 0); other methods carry
///   one only when ``HTTPRequest/body`` is not empty.
/// - Only the caller's headers are added. libcurl's default form `Content-Type` and its
///   `Expect: 100-continue` are suppressed; a header whose name or value holds a line break is
///   refused (``HTTPTransportError``) rather than sent.
/// - ``HTTPRequest/timeout`` bounds the whole exchange; connecting is bounded by the smaller of
///   that and ``connectTimeoutCap``.
/// - TLS peers and host names are always verified. Only `http` and `https` URLs are accepted
///   (other schemes throw ``HTTPTransportError`` before any connection).
///   Proxy environment variables (`https_proxy`, `no_proxy`, …) are honoured as libcurl does.
/// - Redirects are not followed unless ``followRedirects`` is set: a 3xx is a response like any
///   other. When several responses arrive (a `1xx` interim, or followed redirects) the headers
///   returned are those of the last one.
/// - Cancelling the calling task aborts the transfer and throws `CancellationError`.
///
/// Transport failures throw ``HTTPTransportError``; its text never contains the URL's query.
public struct CurlHTTPClient: HTTPClient {
    /// A PEM file of trusted certificate authorities replacing the system bundle; nil for the default.
    public let caBundlePath: String?
    /// Whether to follow `3xx` redirects (at most 5, `http`/`https` only).
    public let followRedirects: Bool
    /// The longest connect phase allowed, whatever the request's whole timeout.
    public let connectTimeoutCap: Duration
    /// Responses with a longer body fail with ``HTTPTransportError`` instead of exhausting memory.
    public let maxResponseBytes: Int

    /// Creates a client.
    /// - Parameters:
    ///   - caBundlePath: a PEM bundle of trusted CAs (replaces the system bundle), or nil.
    ///   - followRedirects: follow up to 5 redirects; off by default.
    ///   - connectTimeoutCap: upper bound of the connect phase (default 5 s).
    ///   - maxResponseBytes: largest accepted response body (default 32 MiB).
    public init(caBundlePath: String? = nil, followRedirects: Bool = false,
                connectTimeoutCap: Duration = .seconds(5), maxResponseBytes: Int = 32 << 20) {
        self.caBundlePath = caBundlePath
        self.followRedirects = followRedirects
        self.connectTimeoutCap = connectTimeoutCap
        self.maxResponseBytes = maxResponseBytes
    }

    /// Sends `request`; any HTTP status is returned as a response.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let cancel = CancelFlag()
        let configuration = self
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                DispatchQueue.global().async {
                    continuation.resume(with: Result {
                        try CurlTransfer.perform(request, configuration: configuration, cancel: cancel)
                    })
                }
            }
        } onCancel: {
            cancel.set()
        }
    }
}

/// Set from the cancelling task, read by curl's progress callback on the transfer thread.
final class CancelFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// `curl_global_init` runs exactly once, on first use (Swift initialises globals lazily and atomically).
private let curlGlobalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

/// What the callbacks collect during one transfer; lives only on the transfer's thread.
private final class TransferState {
    var body: [UInt8] = []
    var headers: [HTTPHeader] = []
    var tooLarge = false
    let limit: Int
    let cancel: CancelFlag
    init(limit: Int, cancel: CancelFlag) {
        self.limit = limit
        self.cancel = cancel
    }
}

private enum CurlTransfer {
    /// Runs one blocking transfer. Call only off the cooperative pool.
    static func perform(_ request: HTTPRequest, configuration: CurlHTTPClient,
                        cancel: CancelFlag) throws -> HTTPResponse {
        let safeURL = HTTPTransportError(url: request.url, reason: "", isTimeout: false).url
        func failure(_ reason: String, timeout: Bool = false) -> HTTPTransportError {
            HTTPTransportError(url: request.url, reason: redact(reason, url: request.url), isTimeout: timeout)
        }

        let scheme = request.url.prefix(while: { $0 != ":" }).lowercased()
        guard scheme == "http" || scheme == "https", request.url.dropFirst(scheme.count).hasPrefix("://") else {
            throw failure("only http:// and https:// URLs are supported")
        }
        guard curlGlobalInit == CURLE_OK else { throw failure("libcurl could not be initialised") }
        guard let handle = curl_easy_init() else { throw failure("libcurl could not allocate a handle") }
        defer { curl_easy_cleanup(handle) }

        // Header list: caller's headers, then suppress libcurl's own defaults we do not want.
        var list: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(list) }
        for header in request.headers {
            guard isSafeHeader(header) else {
                throw failure("header '\(String(decoding: header.name.utf8.filter { $0 >= 0x20 }, as: UTF8.self))' has a line break in its value or an invalid name")
            }
            // "Name;" is libcurl's spelling of a header with an empty value ("Name:" would remove it).
            let line = header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
            list = curl_slist_append(list, line)
        }
        if request.header("Expect") == nil {
            list = curl_slist_append(list, "Expect:")
        }
        if request.header("Content-Type") == nil {
            list = curl_slist_append(list, "Content-Type:")
        }
        guard list != nil else { throw failure("libcurl could not allocate the header list") }

        let state = TransferState(limit: configuration.maxResponseBytes, cancel: cancel)
        let statePointer = Unmanaged.passUnretained(state).toOpaque()

        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }

        let timeoutMS = milliseconds(request.timeout)
        let connectMS = min(timeoutMS, milliseconds(configuration.connectTimeoutCap))
        let method = request.method.uppercased()

        var setup: [CURLcode] = [
            kubeip_curl_setopt_string(handle, CURLOPT_URL, request.url),
            kubeip_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1),
            kubeip_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1),
            kubeip_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2),
            kubeip_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMS),
            kubeip_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectMS),
            kubeip_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, configuration.followRedirects ? 1 : 0),
            kubeip_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 5),
            kubeip_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list),
            kubeip_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer),
            kubeip_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, receiveBody),
            kubeip_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, statePointer),
            kubeip_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, receiveHeader),
            kubeip_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, statePointer),
            kubeip_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0),
            kubeip_curl_setopt_xferinfo_function(handle, checkCancel),
            kubeip_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, statePointer),
        ]
        // Defence in depth (the scheme was checked above); libcurl before 7.85 lacks these options.
        for option in [CURLOPT_PROTOCOLS_STR, CURLOPT_REDIR_PROTOCOLS_STR] {
            let code = kubeip_curl_setopt_string(handle, option, "http,https")
            if code != CURLE_UNKNOWN_OPTION { setup.append(code) }
        }
        if let ca = configuration.caBundlePath {
            setup.append(kubeip_curl_setopt_string(handle, CURLOPT_CAINFO, ca))
        }
        if method == "GET" && request.body.isEmpty {
            setup.append(kubeip_curl_setopt_long(handle, CURLOPT_HTTPGET, 1))
        } else if method == "HEAD" && request.body.isEmpty {
            setup.append(kubeip_curl_setopt_long(handle, CURLOPT_NOBODY, 1))
        } else {
            if !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) {
                // The size first, so COPYPOSTFIELDS copies exactly that many bytes (bodies may hold NULs).
                setup.append(kubeip_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
                if request.body.isEmpty {
                    setup.append(kubeip_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, ""))
                } else {
                    setup.append(request.body.withUnsafeBytes { bytes in
                        kubeip_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                    })
                }
            }
            if method != "POST" {
                setup.append(kubeip_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method))
            }
        }
        if let bad = setup.first(where: { $0 != CURLE_OK }) {
            throw failure("cannot configure the request for \(safeURL): \(String(cString: curl_easy_strerror(bad)))")
        }

        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            if code == CURLE_ABORTED_BY_CALLBACK && cancel.isSet { throw CancellationError() }
            if state.tooLarge {
                throw failure("response body larger than \(configuration.maxResponseBytes) bytes")
            }
            let detail = String(cString: errorBuffer)
            let reason = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw failure(reason, timeout: code == CURLE_OPERATION_TIMEDOUT)
        }

        var status = 0
        _ = kubeip_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: state.headers, body: state.body)
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 1 }
        let total = seconds.multipliedReportingOverflow(by: 1000)
        if total.overflow || total.partialValue > Int64(Int32.max) { return Int(Int32.max) }
        // Round up: a 0.5 ms timeout must not become "no timeout" (0 means infinite to libcurl).
        let extra = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return max(1, Int(total.partialValue + extra))
    }

    private static func isSafeHeader(_ header: HTTPHeader) -> Bool {
        // Bytes, not Characters: "\r\n" is a single Character and would slip past a Character check.
        let name = header.name.utf8, value = header.value.utf8
        let breaks: Set<UInt8> = [0x0d, 0x0a, 0x00]
        return !name.isEmpty
            && !name.contains(where: { breaks.contains($0) || $0 == UInt8(ascii: ":") || $0 == 0x20 || $0 == 0x09 })
            && !value.contains(where: breaks.contains)
    }

    /// Removes the URL's query (and the full URL) from a libcurl message, in case it quotes them.
    static func redact(_ reason: String, url: String) -> String {
        guard let mark = url.firstIndex(of: "?") else { return reason }
        let query = String(url[url.index(after: mark)...])
        var text = reason.replacing(url, with: String(url[..<mark]))
        if !query.isEmpty { text = text.replacing(query, with: "…") }
        return text
    }
}

// MARK: libcurl callbacks (C function pointers, no captures)

extension TransferState {
    /// Appends body bytes; false (abort) past the size limit.
    func appendBody(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard body.count + bytes.count <= limit else {
            tooLarge = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// Takes one header line as libcurl delivers it (status line, header, continuation or blank).
    func addHeaderLine(_ bytes: UnsafeBufferPointer<UInt8>) {
        var line = String(decoding: bytes, as: UTF8.self)
        while line.last == "\n" || line.last == "\r" || line.last == "\r\n" { line.removeLast() }
        if line.hasPrefix("HTTP/") {
            // A new response begins (interim 1xx, redirect, proxy CONNECT): keep only the last one's headers.
            headers.removeAll()
        } else if let first = line.first, first == " " || first == "\t" {
            // Obsolete line folding: continues the previous header's value.
            if !headers.isEmpty {
                headers[headers.count - 1].value += " " + line.drop(while: { $0 == " " || $0 == "\t" })
            }
        } else if let colon = line.firstIndex(of: ":") {
            var value = String(line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" }))
            while value.last == " " || value.last == "\t" { value.removeLast() }
            headers.append(HTTPHeader(String(line[..<colon]), value))
        }
    }
}

/// Hands a write or header callback's bytes to `handle`; returns what libcurl expects
/// (the byte count to continue, anything else to abort).
private func deliver(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?,
                     _ handle: (TransferState, UnsafeBufferPointer<UInt8>) -> Bool) -> Int {
    guard let context else { return 0 }
    let length = size * count
    guard length > 0, let data else { return length }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    let accepted = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        handle(state, UnsafeBufferPointer(start: $0, count: length))
    }
    return accepted ? length : 0  // 0 aborts the transfer with CURLE_WRITE_ERROR
}

private let receiveBody: kubeip_curl_write_callback = { data, size, count, context in
    deliver(data, size, count, context) { state, bytes in state.appendBody(bytes) }
}

private let receiveHeader: kubeip_curl_write_callback = { data, size, count, context in
    deliver(data, size, count, context) { state, bytes in
        state.addHeaderLine(bytes)
        return true
    }
}

private let checkCancel: kubeip_curl_xferinfo_callback = { context, _, _, _, _ in
    guard let context else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
    return state.cancel.isSet ? 1 : 0
}
