/// The kube-mode part of the settings: how `mode: auto` decides, and the forms of the kube
/// settings (Kubernetes names, taint keys, listen addresses).
extension SettingsLoader {
    /// The settings whose presence means kube mode when `mode` is auto.
    static let kubeKeys = ["node-name", "kubeconfig", "lease-namespace", "lease-duration", "taint-key"]

    /// `mode: auto`: kube when a kube setting is given or this runs in a pod, else host; with why.
    static func detectMode(_ raw: [String: RawValue], environment: [String: String]) -> (RunMode, String) {
        for key in kubeKeys {
            if let value = raw[key], value.origin != .default, !trimmed(value.text).isEmpty {
                return (.kube, "\(key) is set (\(value.origin))")
            }
        }
        if let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            return (.kube, "KUBERNETES_SERVICE_HOST is set (running in a pod)")
        }
        return (.host, hostModeReason)
    }

    /// Why `mode: auto` chose host mode.
    public static let hostModeReason = "no kube setting and not in a pod"

    /// A Kubernetes object name (DNS subdomain: at most 253 lowercase letters, digits, '-' and
    /// '.', starting and ending with a letter or digit); empty means unset.
    static func dnsSubdomain(_ key: String, _ text: String, _ origin: SettingOrigin) throws -> String? {
        guard !text.isEmpty else { return nil }
        let allowed = text.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" || $0 == "." }
        guard allowed, text.count <= 253, let first = text.first, let last = text.last,
              first.isLetter || first.isNumber, last.isLetter || last.isNumber else {
            throw invalid(key, "'\(text)' is not a valid name", origin)
        }
        return text
    }

    /// A taint key: `[prefix/]name`, the prefix a DNS subdomain, the name at most 63 letters,
    /// digits, '-', '_' and '.' starting and ending with a letter or digit; empty means unset.
    static func taintKey(_ text: String, _ origin: SettingOrigin) throws -> String? {
        guard !text.isEmpty else { return nil }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw invalid("taint-key", "'\(text)' has more than one '/'", origin) }
        if parts.count == 2 {
            _ = try dnsSubdomain("taint-key", String(parts[0]), origin)
            guard !parts[0].isEmpty else { throw invalid("taint-key", "'\(text)' has an empty prefix", origin) }
        }
        let name = parts.last!
        let valid = !name.isEmpty && name.count <= 63
            && name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "_" || $0 == "." }
            && (name.first!.isLetter || name.first!.isNumber) && (name.last!.isLetter || name.last!.isNumber)
        guard valid else { throw invalid("taint-key", "'\(name)' is not a valid key name", origin) }
        return text
    }

    /// `host:port` (`[v6]:port`, `:port` for every address); empty means no listener.
    static func listenAddress(_ text: String, _ origin: SettingOrigin) throws -> String? {
        guard !text.isEmpty else { return nil }
        guard let colon = text.lastIndex(of: ":") else {
            throw invalid("metrics-address", "'\(text)' has no port", origin)
        }
        let host = text[..<colon]
        guard let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw invalid("metrics-address", "'\(text)' has no port between 1 and 65535", origin)
        }
        if host.hasPrefix("[") != host.hasSuffix("]") || (host.contains(":") && !host.hasPrefix("[")) {
            throw invalid("metrics-address", "'\(text)': an IPv6 host goes in brackets", origin)
        }
        return text
    }
}
