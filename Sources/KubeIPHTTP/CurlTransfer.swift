import CCurl

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

enum CurlTransfer {
    /// Runs one blocking transfer on a pooled handle. Call only off the cooperative pool.
    static func perform(_ request: HTTPRequest, configuration: CurlHTTPClient,
                        cancel: CancelFlag) throws -> HTTPResponse {
        let safeURL = urlWithoutQuery(request.url)
        func failure(_ reason: String, timeout: Bool = false) -> HTTPTransportError {
            HTTPTransportError(url: request.url, reason: redact(reason, url: request.url), isTimeout: timeout)
        }

        let scheme = request.url.prefix(while: { $0 != ":" }).lowercased()
        guard scheme == "http" || scheme == "https", request.url.dropFirst(scheme.count).hasPrefix("://") else {
            throw failure("only http:// and https:// URLs are supported")
        }
        guard curlGlobalInit == CURLE_OK else { throw failure("libcurl could not be initialised") }

        // The URL libcurl is given, and where it really connects, when TLS expects another name.
        var url = request.url
        var connectTo: String?
        var headers = request.headers
        if let serverName = configuration.tls.serverName, scheme == "https" {
            guard let directed = directed(request.url, serverName: serverName) else {
                throw failure("cannot use the TLS server name '\(serverName)': it must be a DNS name and the URL must have a host")
            }
            url = directed.url
            connectTo = directed.connectTo
            // The Host header still names the URL's host, as if no override were in place.
            if request.header("Host") == nil { headers.append(HTTPHeader("Host", directed.hostHeader)) }
        }

        // Header lines: the caller's, then libcurl's own defaults suppressed.
        var lines: [String] = []
        for header in headers {
            guard isSafeHeader(header) else {
                throw failure("header '\(String(decoding: header.name.utf8.filter { $0 >= 0x20 }, as: UTF8.self))' has a line break in its value or an invalid name")
            }
            // "Name;" is libcurl's spelling of a header with an empty value ("Name:" would remove it).
            lines.append(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        if request.header("Expect") == nil { lines.append("Expect:") }
        if request.header("Content-Type") == nil { lines.append("Content-Type:") }

        // What the handle points at while it is configured: the header lists, the error buffer
        // and the callback state. They must outlive every use of the handle, including its
        // reset or cleanup, so they are released in one `defer` after the handle, in that order
        // (separate `defer`s run in reverse declaration order, which freed the error buffer
        // before `curl_easy_cleanup` once).
        guard let list = makeList(lines) else { throw failure("libcurl could not allocate the header list") }
        var connectList: UnsafeMutablePointer<curl_slist>?
        if let connectTo {
            guard let made = makeList([connectTo]) else {
                curl_slist_free_all(list)
                throw failure("libcurl could not allocate the header list")
            }
            connectList = made
        }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let state = TransferState(limit: configuration.maxResponseBytes, cancel: cancel)
        let pool = configuration.handles
        guard let easy = pool.checkOut() else {
            curl_slist_free_all(list)
            curl_slist_free_all(connectList)
            errorBuffer.deallocate()
            throw failure("libcurl could not allocate a handle")
        }
        var reusable = false
        defer {
            if reusable { pool.checkIn(easy) } else { pool.discard(easy) }
            curl_slist_free_all(list)
            curl_slist_free_all(connectList)
            errorBuffer.deallocate()
            withExtendedLifetime(state) {}
        }
        let handle = easy.raw
        let statePointer = Unmanaged.passUnretained(state).toOpaque()

        let timeoutMS = milliseconds(request.timeout)
        let connectMS = min(timeoutMS, milliseconds(configuration.connectTimeoutCap))
        let method = request.method.uppercased()

        var setup: [CURLcode] = [
            pool.attachShare(easy),
            kubeip_curl_setopt_string(handle, CURLOPT_URL, url),
            kubeip_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1),
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
        setup += tlsOptions(configuration.tls, handle: handle)
        if let connectList {
            setup.append(kubeip_curl_setopt_slist(handle, CURLOPT_CONNECT_TO, connectList))
        }
        // Defence in depth (the scheme was checked above); libcurl before 7.85 lacks these options.
        for option in [CURLOPT_PROTOCOLS_STR, CURLOPT_REDIR_PROTOCOLS_STR] {
            let code = kubeip_curl_setopt_string(handle, option, "http,https")
            if code != CURLE_UNKNOWN_OPTION { setup.append(code) }
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
        reusable = true
        return HTTPResponse(status: status, headers: state.headers, body: state.body)
    }

    /// Trust, client identity and verification; PEM bytes are copied by libcurl.
    private static func tlsOptions(_ tls: TLSOptions, handle: UnsafeMutableRawPointer) -> [CURLcode] {
        func pem(_ source: TLSOptions.PEM, file: CURLoption, blob: CURLoption) -> CURLcode {
            switch source {
            case .file(let path):
                return kubeip_curl_setopt_string(handle, file, path)
            case .data(let bytes):
                return bytes.withUnsafeBytes { kubeip_curl_setopt_blob(handle, blob, $0.baseAddress, $0.count) }
            }
        }
        let verify = !tls.skipsVerification
        var codes = [
            kubeip_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, verify ? 1 : 0),
            kubeip_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, verify ? 2 : 0),
        ]
        if let trusted = tls.trustedCertificates {
            codes.append(pem(trusted, file: CURLOPT_CAINFO, blob: CURLOPT_CAINFO_BLOB))
            // Replace the system store entirely: the built-in CA directory would still be searched.
            codes.append(kubeip_curl_setopt_string(handle, CURLOPT_CAPATH, nil))
        }
        if let certificate = tls.clientCertificate {
            codes.append(kubeip_curl_setopt_string(handle, CURLOPT_SSLCERTTYPE, "PEM"))
            codes.append(pem(certificate, file: CURLOPT_SSLCERT, blob: CURLOPT_SSLCERT_BLOB))
        }
        if let key = tls.clientKey {
            codes.append(kubeip_curl_setopt_string(handle, CURLOPT_SSLKEYTYPE, "PEM"))
            codes.append(pem(key, file: CURLOPT_SSLKEY, blob: CURLOPT_SSLKEY_BLOB))
        }
        return codes
    }

    /// `url` with its host replaced by `serverName` (for SNI and certificate checks), the
    /// `CURLOPT_CONNECT_TO` entry that still connects to the original host, and the original
    /// `Host` header value; nil when the name is not a DNS name or the URL has no host.
    static func directed(_ url: String, serverName: String) -> (url: String, connectTo: String, hostHeader: String)? {
        let allowed = serverName.utf8.allSatisfy { byte in
            PercentEncoding.isUnreserved(byte) && byte != UInt8(ascii: "~") && byte != UInt8(ascii: "_")
        }
        guard allowed, !serverName.isEmpty, let parts = URLParts(url),
              let schemeEnd = url.firstRange(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let port = parts.port ?? (parts.scheme == "https" ? 443 : 80)
        let rewritten = "\(parts.scheme)://\(serverName):\(port)" + rest[authorityEnd...]
        return (rewritten, "\(serverName):\(port):\(parts.host):\(port)", parts.hostHeader)
    }

    /// A libcurl string list of `lines`; nil (nothing leaked) when allocation fails.
    private static func makeList(_ lines: [String]) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            guard let next = curl_slist_append(list, line) else {
                curl_slist_free_all(list)
                return nil
            }
            list = next
        }
        return list
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
