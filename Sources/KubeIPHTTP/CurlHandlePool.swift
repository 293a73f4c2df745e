import CCurl
import Synchronization

/// A libcurl easy handle, moved between the pool and the one transfer thread using it.
struct CurlEasyHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
}

/// Idle easy handles of one ``CurlHTTPClient`` (and its copies), so that requests reuse
/// connections: each easy handle keeps its own connection cache, so the next request taken
/// from the pool goes out on the connection the previous one left open (no TCP or TLS
/// handshake). libcurl does not support one connection cache shared by concurrent threads,
/// so connections are not shared; DNS answers and TLS sessions are (through a share handle
/// with a mutex per kind of data), so that a handle created for a concurrent request resumes
/// the TLS session instead of a full handshake.
///
/// A handle is used by one transfer at a time: taken out by ``checkOut()``, given back by
/// ``checkIn(_:)`` once the transfer succeeded (a failed transfer's handle is destroyed, its
/// connection with it). At most ``maxIdle`` handles wait; the most recently used goes first.
final class CurlHandlePool: Sendable {
    /// Idle handles kept at most (more concurrent requests create handles that are then freed).
    let maxIdle: Int
    private let idle = Mutex<[CurlEasyHandle]>([])
    private let share: CurlShare?

    init(maxIdle: Int = 4) {
        self.maxIdle = maxIdle
        share = CurlShare()
    }

    /// An idle handle (reset to default options) or a new one; nil when libcurl cannot allocate one.
    func checkOut() -> CurlEasyHandle? {
        if let handle = idle.withLock({ $0.popLast() }) { return handle }
        guard let raw = curl_easy_init() else { return nil }
        return CurlEasyHandle(raw: raw)
    }

    /// Attaches the shared DNS and TLS session caches to `handle` (after each reset).
    func attachShare(_ handle: CurlEasyHandle) -> CURLcode {
        guard let share else { return CURLE_OK }
        return kubeip_curl_setopt_share(handle.raw, share.pointer)
    }

    /// Returns a handle whose transfer completed: its options are reset (its connection, DNS
    /// and TLS session caches stay) and it waits for the next request, or is freed when the
    /// pool is full.
    func checkIn(_ handle: CurlEasyHandle) {
        curl_easy_reset(handle.raw)
        let kept = idle.withLock { handles -> Bool in
            guard handles.count < maxIdle else { return false }
            handles.append(handle)
            return true
        }
        if !kept { curl_easy_cleanup(handle.raw) }
    }

    /// Frees a handle whose transfer failed, and the connection it holds.
    func discard(_ handle: CurlEasyHandle) {
        curl_easy_cleanup(handle.raw)
    }

    deinit {
        // Handles first: the share may be freed only when no handle uses it.
        for handle in idle.withLock({ $0 }) { curl_easy_cleanup(handle.raw) }
    }
}

/// The share handle of one pool; freed after the pool's handles (the pool holds it).
private final class CurlShare: Sendable {
    nonisolated(unsafe) let pointer: UnsafeMutablePointer<kubeip_curl_share>

    init?() {
        guard curlGlobalInit == CURLE_OK, let pointer = kubeip_curl_share_create() else { return nil }
        self.pointer = pointer
    }

    deinit { kubeip_curl_share_destroy(pointer) }
}

/// `curl_global_init` runs exactly once, on first use (Swift initialises globals lazily and atomically).
let curlGlobalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))
