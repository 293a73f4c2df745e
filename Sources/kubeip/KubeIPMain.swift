import KubeIPCLI

/// The executable: everything lives in KubeIPCLI.
@main
struct KubeIPMain {
    static func main() async {
        await KubeIPCommand.main(nil)
    }
}
