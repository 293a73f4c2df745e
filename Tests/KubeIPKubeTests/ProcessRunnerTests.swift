import Foundation
import Testing
@testable import KubeIPKube

@Suite struct ProcessRunnerTests {
    private func run(_ script: String, timeout: Duration = .seconds(20), env: [String: String] = ["PATH": "/usr/bin:/bin"],
                     maxOutput: Int = 1 << 20) async throws -> ProcessOutcome {
        try await ProcessRunner.run(command: "/bin/sh", arguments: ["-c", script], environment: env, timeout: timeout,
                                    maxOutputBytes: maxOutput, maxErrorBytes: 16)
    }

    @Test func capturesOutputErrorAndExitStatus() async throws {
        let outcome = try await run("echo out; echo err >&2; exit 4")
        #expect(outcome.ending == .exited(4))
        #expect(String(decoding: outcome.stdout, as: UTF8.self) == "out\n")
        #expect(String(decoding: outcome.stderr, as: UTF8.self) == "err\n")
    }

    @Test func standardInputIsNotATerminalAndReadsNothing() async throws {
        let outcome = try await run("if [ -t 0 ]; then echo tty; fi; cat; echo done")
        #expect(String(decoding: outcome.stdout, as: UTF8.self) == "done\n")
    }

    @Test func theEnvironmentIsExactlyTheOneGiven() async throws {
        let outcome = try await run("echo \"$ONLY/$HOME\"", env: ["PATH": "/usr/bin:/bin", "ONLY": "this"])
        #expect(String(decoding: outcome.stdout, as: UTF8.self) == "this/\n")
    }

    @Test func standardErrorKeepsOnlyItsStart() async throws {
        let outcome = try await run("echo 0123456789abcdefghij >&2")
        #expect(outcome.stderr.count == 16)
    }

    @Test func tooMuchOutputStopsTheProcess() async throws {
        let outcome = try await run("yes", maxOutput: 10_000)
        #expect(outcome.ending == .outputTooLarge)
    }

    @Test func aTimeoutKillsTheWholeProcessGroup() async throws {
        let started = ContinuousClock.now
        // The shell starts a child that keeps the pipes open: killing only the shell would hang.
        let outcome = try await run("sleep 30 & sleep 30", timeout: .milliseconds(200))
        #expect(outcome.ending == .timedOut)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func signalsAreReported() async throws {
        #expect(try await run("kill -TERM $$").ending == .signalled(15))
    }

    @Test func aMissingProgramIsASpawnError() async throws {
        let error = await #expect(throws: ProcessRunner.SpawnError.self) {
            _ = try await ProcessRunner.run(command: "/nonexistent/plugin", arguments: [], environment: [:], timeout: .seconds(5))
        }
        #expect(error?.notFound == true)
    }

    @Test func cancellingTheTaskKillsTheProcess() async throws {
        let marker = NSTemporaryDirectory() + "kubeip-runner-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let task = Task { try await run("touch \(marker); sleep 30", timeout: .seconds(60)) }
        // Wait (by looking, not by timing) until the process runs.
        while !FileManager.default.fileExists(atPath: marker) { await Task.yield() }
        task.cancel()
        let started = ContinuousClock.now
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}
