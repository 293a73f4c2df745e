// swift-tools-version:6.1
import PackageDescription

// One module per concern. Arrows point from adapters (AWS, systemd, config,
// simulator) to the cloud-agnostic core, never back.
let package = Package(
    name: "kubeip",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kubeip", targets: ["kubeip"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries, each bound through a small C shim header.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd",
                       providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1",
                       providers: [.apt(["libyaml-dev"])]),

        // The cloud-agnostic engine: identity, candidate choice, claim, verify, hold, release.
        .target(name: "KubeIPCore",
                dependencies: [.product(name: "Logging", package: "swift-log")]),

        // Transport and primitives shared by cloud adapters.
        .target(name: "KubeIPHTTP",
                dependencies: ["CCurl", "KubeIPCore", .product(name: "Logging", package: "swift-log")]),
        // A small bounded HTTP/1.1 server (poll(2) on a thread of its own): health and metrics.
        .target(name: "KubeIPHTTPServer", dependencies: ["KubeIPCore", "KubeIPHTTP"]),
        .target(name: "KubeIPCrypto", dependencies: ["COpenSSL"]),

        // Cloud adapters.
        .target(name: "KubeIPAWS",
                dependencies: ["KubeIPCore", "KubeIPHTTP", "KubeIPCrypto",
                               .product(name: "Logging", package: "swift-log")]),

        .target(name: "KubeIPGCP",
                dependencies: ["KubeIPCore", "KubeIPHTTP", "KubeIPCrypto",
                               .product(name: "Logging", package: "swift-log")]),

        // Host integration: sd_notify, file lock, state directory.
        .target(name: "KubeIPSystemd",
                dependencies: ["KubeIPCore", "CSystemd",
                               .product(name: "Logging", package: "swift-log")]),

        // Settings: flags > environment > conf.d > kubeip.yaml > defaults.
        .target(name: "KubeIPConfig", dependencies: ["KubeIPCore", "CYAML"]),

        // The Kubernetes API client: kubeconfig and in-cluster connections, credentials, typed calls.
        .target(name: "KubeIPKube",
                dependencies: ["KubeIPCore", "KubeIPHTTP", "KubeIPConfig",
                               .product(name: "Logging", package: "swift-log")]),

        // Kube mode: the Node as identity, Leases as claim coordination, taints, labels, Events.
        .target(name: "KubeIPNode",
                dependencies: ["KubeIPCore", "KubeIPKube",
                               .product(name: "Logging", package: "swift-log")]),

        // In-memory clouds (EC2's conflict semantics, Compute Engine's address swap), a manual
        // clock, seeded randomness: tests, `cloud: simulated` and the demo.
        .target(name: "KubeIPSimulator", dependencies: ["KubeIPCore"]),

        // Test doubles, linked by tests and test tools only (never by KubeIPCLI or kubeip): a
        // Kubernetes API double with the apiserver's semantics, the strict Compute Engine,
        // metadata server and OAuth double (GCE/), and the executable serving the first over HTTP.
        .target(name: "KubeIPTestSupport",
                dependencies: ["KubeIPCore", "KubeIPHTTP", "KubeIPHTTPServer", "KubeIPSimulator", "KubeIPConfig"]),
        .executableTarget(name: "kube-api-double",
                          dependencies: ["KubeIPTestSupport", "KubeIPHTTPServer", "KubeIPSystemd", "KubeIPConfig"]),

        // Commands and wiring: builds production parts from settings and runs the engine.
        .target(name: "KubeIPCLI",
                dependencies: ["KubeIPCore", "KubeIPAWS", "KubeIPGCP", "KubeIPSystemd",
                               "KubeIPConfig", "KubeIPSimulator", "KubeIPHTTP", "KubeIPHTTPServer", "KubeIPKube", "KubeIPNode",
                               .product(name: "ArgumentParser", package: "swift-argument-parser"),
                               .product(name: "Logging", package: "swift-log")]),

        // The thin executable.
        .executableTarget(name: "kubeip", dependencies: ["KubeIPCLI"]),

        .testTarget(name: "KubeIPCoreTests", dependencies: ["KubeIPCore", "KubeIPSimulator"]),
        .testTarget(name: "KubeIPHTTPTests", dependencies: ["KubeIPHTTP"]),
        .testTarget(name: "KubeIPHTTPServerTests", dependencies: ["KubeIPHTTPServer", "KubeIPHTTP"]),
        .testTarget(name: "KubeIPTestSupportTests",
                    dependencies: ["KubeIPTestSupport", "KubeIPHTTPServer", "KubeIPHTTP", "KubeIPSimulator", "KubeIPCore"]),
        .testTarget(name: "KubeIPCryptoTests", dependencies: ["KubeIPCrypto"]),
        .testTarget(name: "KubeIPAWSTests", dependencies: ["KubeIPAWS", "KubeIPCore", "KubeIPHTTP", "KubeIPSimulator"]),
        .testTarget(name: "KubeIPGCPTests", dependencies: ["KubeIPGCP", "KubeIPCore", "KubeIPHTTP", "KubeIPCrypto", "KubeIPSimulator",
                                                           "KubeIPTestSupport"]),
        .testTarget(name: "KubeIPSystemdTests", dependencies: ["KubeIPSystemd", "KubeIPCore"]),
        .testTarget(name: "KubeIPConfigTests", dependencies: ["KubeIPConfig", "KubeIPCore"]),
        .testTarget(name: "KubeIPKubeTests", dependencies: ["KubeIPKube", "KubeIPCore", "KubeIPHTTP", "KubeIPConfig",
                                                            "KubeIPSimulator",
                                                            .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "KubeIPNodeTests", dependencies: ["KubeIPNode", "KubeIPKube", "KubeIPCore", "KubeIPSimulator",
                                                            "KubeIPGCP", "KubeIPHTTP", "KubeIPTestSupport",
                                                            .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "KubeIPSimulatorTests", dependencies: ["KubeIPSimulator", "KubeIPCore"]),
        .testTarget(name: "KubeIPCLITests", dependencies: ["KubeIPCLI", "KubeIPCore", "KubeIPSimulator", "KubeIPHTTP",
                                                           "KubeIPHTTPServer",
                                                           .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v6]
)
