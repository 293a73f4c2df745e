import ArgumentParser

/// `kubeip`: the root command.
public struct KubeIPCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kubeip",
        abstract: "Give this machine a static public IP from a pool of reserved addresses.",
        discussion: """
            Settings come from flags, then environment variables, then /etc/kubeip/conf.d/*.yaml, \
            then /etc/kubeip/kubeip.yaml. See kubeip(8).
            """,
        version: "kubeip \(KubeIPVersion.current)",
        subcommands: [RunCommand.self, CheckCommand.self, StatusCommand.self, ReleaseCommand.self,
                      VersionCommand.self, DemoCommand.self, SettingsCommand.self]
    )

    public init() {}
}

/// `kubeip version`
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")
    func run() { print("kubeip \(KubeIPVersion.current)") }
}

/// `kubeip demo`
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the whole flow against an embedded simulated cloud (no cloud account needed).")

    enum Flavor: String, ExpressibleByArgument, CaseIterable { case aws, gcp }

    @Option(help: "Which cloud the simulation behaves like: aws (Elastic IPs) or gcp (Compute Engine).")
    var cloud: Flavor = .aws

    func run() async throws {
        do {
            switch cloud {
            case .aws: try await Demo().run()
            case .gcp: try await Demo().runGCP()
            }
        } catch {
            Runtime.printError(error)
            throw ExitCode.failure
        }
    }
}
