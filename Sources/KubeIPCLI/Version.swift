/// The release, as `kubeip version` prints it and the Debian package numbers it.
public enum KubeIPVersion {
    public static let current = "0.1.0"
}
