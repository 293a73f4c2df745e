import Foundation
import KubeIPCore
import KubeIPSimulator
import Testing
@testable import KubeIPKube

/// Exec credential plugins as small shell scripts in a temporary directory.
@Suite struct ExecCredentialProviderTests {
    private let directory: TemporaryDirectory
    init() throws { directory = try TemporaryDirectory() }

    /// A plugin that counts its runs in `runs`, saves KUBERNETES_EXEC_INFO and prints `answer`.
    private func plugin(_ answer: String, name: String = "plugin.sh", extra: String = "") throws -> String {
        try directory.write(name, """
            #!/bin/sh
            echo run >> "\(directory.path)/runs"
            printf '%s' "$KUBERNETES_EXEC_INFO" > "\(directory.path)/exec-info"
            \(extra)
            cat <<'JSON'
            \(answer)
            JSON
            """, executable: true)
    }

    private var runs: Int { directory.read("runs")?.split(separator: "\n").count ?? 0 }

    private func provider(_ command: String, version: ExecCredentialConfig.APIVersion = .v1, args: [String] = [],
                          env: [ExecCredentialConfig.Variable] = [], cluster: ExecCredentialConfig.ClusterInfo? = nil,
                          clock: ManualClock = ManualClock(), timeout: Duration = .seconds(20),
                          hint: String? = nil) -> ExecCredentialProvider {
        ExecCredentialProvider(config: ExecCredentialConfig(apiVersion: version, command: command, args: args, env: env,
                                                            cluster: cluster, installHint: hint,
                                                            origin: "user 'eks' in kubeconfig /k/config"),
                               environment: ["PATH": "/usr/bin:/bin", "HOME": directory.path, "KEEP": "process"],
                               clock: clock, timeout: timeout)
    }

    private func answer(_ version: String = "client.authentication.k8s.io/v1", token: String = "exec-token-1",
                        expires: String? = nil) -> String {
        let expiry = expires.map { #","expirationTimestamp":"\#($0)""# } ?? ""
        return #"{"kind":"ExecCredential","apiVersion":"\#(version)","spec":{},"status":{"token":"\#(token)"\#(expiry)}}"#
    }

    @Test func v1TokenAndTheRequestItWasGiven() async throws {
        let command = try plugin(answer())
        let credential = try await provider(command).credential()
        #expect(credential.token?.value == "exec-token-1")
        let info = try #require(directory.read("exec-info"))
        #expect(info == #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}"#)
    }

    @Test func v1beta1WithClusterInfo() async throws {
        let command = try plugin(answer("client.authentication.k8s.io/v1beta1"))
        let cluster = ExecCredentialConfig.ClusterInfo(server: "https://eks.example:443", tlsServerName: "kube.test",
                                                       certificateAuthorityData: Array("PEM".utf8))
        let credential = try await provider(command, version: .v1beta1, cluster: cluster).credential()
        #expect(credential.token?.value == "exec-token-1")
        #expect(directory.read("exec-info") == #"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"cluster":{"certificate-authority-data":"UEVN","server":"https://eks.example:443","tls-server-name":"kube.test"},"interactive":false}}"#)
    }

    @Test func argsAndEnvAreMergedOverTheProcessEnvironment() async throws {
        let command = try plugin(answer(), extra: #"echo "$1 $2 $REGION $KEEP" > "\#(directory.path)/seen""#)
        _ = try await provider(command, args: ["eks", "get-token"],
                               env: [.init(name: "REGION", value: "eu-west-1")]).credential()
        #expect(directory.read("seen") == "eks get-token eu-west-1 process\n")
    }

    @Test func commandsAreLookedUpInPATH() async throws {
        let credential = try await provider("sh", args: ["-c", "echo '\(answer())'"]).credential()
        #expect(credential.token?.value == "exec-token-1")
    }

    @Test func aTokenIsCachedUntilShortlyBeforeItExpires() async throws {
        let clock = ManualClock(start: Date(timeIntervalSince1970: 1_796_410_000))   // 2026-12-04T18:46:40Z
        let command = try plugin(answer(expires: "2026-12-04T19:46:40Z"))
        let exec = provider(command, clock: clock)
        _ = try await exec.credential()
        clock.advance(by: .seconds(3600 - 31))
        _ = try await exec.credential()
        #expect(runs == 1)
        clock.advance(by: .seconds(2))   // within the 30 s margin
        _ = try await exec.credential()
        #expect(runs == 2)
    }

    @Test func withoutAnExpiryTheTokenLastsUntilRefused() async throws {
        let clock = ManualClock()
        let command = try plugin(answer())
        let exec = provider(command, clock: clock)
        let first = try await exec.credential()
        clock.advance(by: .seconds(86_400))
        #expect(try await exec.credential() == first)
        #expect(runs == 1)
        await exec.refused(KubeCredential(token: KubeSecret("someone else's")))
        _ = try await exec.credential()
        #expect(runs == 1)
        await exec.refused(first)
        _ = try await exec.credential()
        #expect(runs == 2)
    }

    @Test func concurrentCallersShareOneRun() async throws {
        let command = try plugin(answer(), extra: "sleep 0.3")
        let exec = provider(command)
        let tokens = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<8 { group.addTask { try await exec.credential().token?.value } }
            var all: [String?] = []
            for try await token in group { all.append(token) }
            return all
        }
        #expect(tokens == Array(repeating: "exec-token-1", count: 8))
        #expect(runs == 1)
    }

    @Test func clientCertificateAnswers() async throws {
        let command = try plugin(#"{"apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----","clientKeyData":"-----BEGIN PRIVATE KEY-----\nBB\n-----END PRIVATE KEY-----"}}"#)
        let credential = try await provider(command).credential()
        #expect(credential.token == nil)
        #expect(credential.clientCertificate?.key == Array("-----BEGIN PRIVATE KEY-----\nBB\n-----END PRIVATE KEY-----".utf8))
        #expect(!credential.description.contains("BB"))
    }

    @Test func aFailureNamesThePluginAndQuotesItsStandardError() async throws {
        let command = try directory.write("fail.sh", """
            #!/bin/sh
            echo "could not get token: ExpiredToken" >&2
            echo "please run aws sso login" >&2
            exit 3
            """, executable: true)
        let error = await #expect(throws: KubeIPError.self) { _ = try await provider(command).credential() }
        #expect(error?.code == .authentication)
        #expect(error?.setting == "kubeconfig")
        #expect(error?.message == "the exec credential plugin '\(command)' of user 'eks' in kubeconfig /k/config failed (exit status 3): could not get token: ExpiredToken / please run aws sso login")
    }

    @Test func standardErrorIsBounded() async throws {
        let command = try directory.write("noisy.sh", "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\\\0' x >&2\nexit 1\n", executable: true)
        let error = await #expect(throws: KubeIPError.self) { _ = try await provider(command).credential() }
        #expect((error?.message.count ?? 0) < 1300)
        #expect(error?.message.hasSuffix("…") == true)
    }

    @Test func aPluginThatHangsIsKilledAtTheTimeout() async throws {
        let command = try directory.write("hang.sh", "#!/bin/sh\necho started >&2\nsleep 30\n", executable: true)
        let started = ContinuousClock.now
        let error = await #expect(throws: KubeIPError.self) {
            _ = try await provider(command, timeout: .milliseconds(300)).credential()
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("did not finish within 300ms: started") == true)
    }

    @Test func aMissingCommandShowsTheInstallHint() async throws {
        let error = await #expect(throws: KubeIPError.self) {
            _ = try await provider("kubeip-no-such-plugin", hint: "Install it with: apt-get install nothing").credential()
        }
        #expect(error?.message.contains("'kubeip-no-such-plugin' was not found in PATH. Install it with: apt-get install nothing") == true)
    }

    @Test(arguments: [
        ("not json at all exec-token-1", "not an ExecCredential JSON document"),
        (#"{"apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"exec-token-1"}}"#, "apiVersion client.authentication.k8s.io/v1beta1 but the kubeconfig asks for client.authentication.k8s.io/v1"),
        (#"{"apiVersion":"client.authentication.k8s.io/v1"}"#, "without a status"),
        (#"{"apiVersion":"client.authentication.k8s.io/v1","status":{}}"#, "neither a token nor a client certificate"),
        (#"{"apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"x"}}"#, "only one of"),
        (#"{"apiVersion":"client.authentication.k8s.io/v1","status":{"token":"exec-token-1","expirationTimestamp":"soon"}}"#, "not RFC 3339"),
    ])
    func badAnswersAreRefusedWithoutQuotingThem(output: String, problem: String) async throws {
        let command = try plugin(output)
        let error = await #expect(throws: KubeIPError.self) { _ = try await provider(command).credential() }
        #expect(error?.message.contains(problem) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("exec-token-1") == false)
    }
}
