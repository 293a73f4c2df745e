import KubeIPHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension ComputeEngineDouble {
    /// Serves one request as VM `vm` (nil: off the cloud) would see it answered.
    func handle(_ request: HTTPRequest, from vm: String?) async throws -> HTTPResponse {
        if configuration.latency > .zero { try await clock.sleep(for: configuration.latency) }
        completeDueOperations()
        let url = RequestURL(request.url)
        let service = url.map(classify) ?? .unknown
        requestCount += 1
        let sequence = requestCount
        requests.append(GCERecordedRequest(
            sequence: sequence, instance: vm, service: service, method: request.method, url: request.url,
            path: url.map { relativePath($0, service: service) } ?? request.url,
            query: url?.query.map { GCERecordedRequest.QueryItem(name: $0.name, value: $0.value) } ?? [],
            headers: request.headers, body: request.body.isEmpty ? nil : try? JSONValue(parsing: request.body),
            bodyText: String(decoding: request.body, as: UTF8.self), methodID: nil, status: nil))

        guard let url else { throw HTTPTransportError(url: request.url, reason: "malformed URL", isTimeout: false) }
        try checkReachable(url, service: service, from: vm, request: request)
        if let response = try injectedFault(for: url, service: service, request: request) {
            updateRecord(sequence) { $0.status = response.status }
            return response
        }
        let response: HTTPResponse
        switch service {
        case .metadata: response = serveMetadata(request, url, vm: vm!)
        case .oauth: response = serveTokenEndpoint(request, url)
        case .compute: response = await serveCompute(request, url, record: sequence)
        case .unknown: throw HTTPTransportError(url: request.url, reason: "Could not resolve host", isTimeout: false)
        }
        updateRecord(sequence) { $0.status = response.status }
        return response
    }

    /// Amends the recorded request `sequence`, if it is still recorded.
    func updateRecord(_ sequence: Int, _ change: (inout GCERecordedRequest) -> Void) {
        guard let index = requests.lastIndex(where: { $0.sequence == sequence }) else { return }
        change(&requests[index])
    }

    private func classify(_ url: RequestURL) -> GCEService {
        let metadataAuthority = RequestURL.normalAuthority(configuration.metadataHost, scheme: "http")
        if url.authority == metadataAuthority
            || (metadataAuthority == "metadata.google.internal" && url.authority == "169.254.169.254") {
            return .metadata
        }
        if let base = RequestURL(configuration.computeBaseURL), url.scheme == base.scheme,
           url.authority == base.authority, url.rawPath.hasPrefix(base.rawPath) {
            return .compute
        }
        if let token = RequestURL(configuration.tokenURL), url.scheme == token.scheme, url.authority == token.authority {
            return .oauth
        }
        return .unknown
    }

    private func relativePath(_ url: RequestURL, service: GCEService) -> String {
        if service == .compute, let base = RequestURL(configuration.computeBaseURL) {
            return String(url.rawPath.dropFirst(base.rawPath.count))
        }
        return url.rawPath
    }

    /// Whether the request can reach its server at all: the metadata server only from a VM
    /// (over http), everything else not while the VM is in a connectivity gap.
    private func checkReachable(_ url: RequestURL, service: GCEService, from vm: String?,
                                request: HTTPRequest) throws {
        if let vm, instances[vm] == nil {
            throw HTTPTransportError(url: request.url, reason: "instance \(vm) does not exist", isTimeout: true)
        }
        switch service {
        case .unknown:
            throw HTTPTransportError(url: request.url, reason: "Could not resolve host", isTimeout: false)
        case .metadata:
            guard vm != nil else {
                throw HTTPTransportError(url: request.url, reason: "Connection timed out (link-local, not on a VM)",
                                         isTimeout: true)
            }
            guard url.scheme == "http" else {
                throw HTTPTransportError(url: request.url, reason: "Connection refused", isTimeout: false)
            }
        case .compute, .oauth:
            guard let vm else { return }
            if let remaining = gapRequests[vm], remaining > 0 {
                gapRequests[vm] = remaining - 1
                throw HTTPTransportError(url: request.url, reason: "Connection timed out (no external IP)", isTimeout: true)
            }
            if let until = gapUntil[vm] {
                if clock.now < until {
                    throw HTTPTransportError(url: request.url, reason: "Connection timed out (no external IP)",
                                             isTimeout: true)
                }
                gapUntil[vm] = nil
            }
        }
    }

    private func injectedFault(for url: RequestURL, service: GCEService,
                               request: HTTPRequest) throws -> HTTPResponse? {
        let target = url.authority + url.rawPath
        guard let index = faults.firstIndex(where: { fault in
            fault.remaining > 0 && (fault.match.map { target.contains($0) } ?? (service != .metadata))
        }) else { return nil }
        faults[index].remaining -= 1
        let fault = faults[index]
        if fault.remaining == 0 { faults.remove(at: index) }
        guard let status = fault.status else {
            throw HTTPTransportError(url: request.url, reason: fault.isTimeout ? "Operation timed out" : "Connection reset",
                                     isTimeout: fault.isTimeout)
        }
        var error = GoogleErrorResponse(status: status, message: "Injected failure \(status).",
                                        reason: GoogleErrorResponse.defaultReason(for: status))
        if let seconds = fault.retryAfter { error.headers.append(HTTPHeader("Retry-After", String(seconds))) }
        if service == .metadata {
            return HTTPResponse(status: status,
                                headers: [HTTPHeader("Metadata-Flavor", "Google"),
                                          HTTPHeader("Content-Type", "text/plain")] + error.headers,
                                body: Array(error.message.utf8))
        }
        return error.response
    }
}
