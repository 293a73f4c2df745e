import KubeIPCore
import KubeIPSimulator
import Testing

@Suite struct DaemonRequestsTests {
    @Test func aPauseRunsItsWholeDurationWithoutARequest() async throws {
        let clock = ManualClock()
        let requests = DaemonRequests()
        let pause = Task { try await requests.pause(for: .seconds(30), on: clock) }
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(30))
        #expect(try await pause.value == true)
        #expect(clock.sleeperCount == 0)
    }

    @Test func aStopEndsAPauseAtOnceAndEveryLaterOne() async throws {
        let clock = ManualClock()
        let requests = DaemonRequests()
        let pause = Task { try await requests.pause(for: .seconds(3600), on: clock) }
        #expect(await clock.waitForSleepers(1))
        requests.requestStop()
        #expect(try await pause.value == false)
        // The clock's sleeper was cancelled, not left behind.
        #expect(await clock.waitForSleepers(0))
        #expect(clock.sleeperCount == 0)
        // Sticky: a later pause does not even start.
        #expect(try await requests.pause(for: .seconds(10), on: clock) == false)
        #expect(requests.isStopRequested)
        #expect(clock.elapsed == .zero)
    }

    @Test func reloadsEndAPauseAndAreTakenOnce() async throws {
        let clock = ManualClock()
        let requests = DaemonRequests()
        let pause = Task { try await requests.pause(for: .seconds(60), on: clock) }
        #expect(await clock.waitForSleepers(1))
        requests.requestReload()
        requests.requestReload()
        #expect(try await pause.value == false)
        #expect(requests.takeReload())
        #expect(!requests.takeReload())
        #expect(!requests.hasPending)
        #expect(!requests.isStopRequested)
    }

    @Test func signalsMapToRequests() {
        let requests = DaemonRequests()
        requests.deliver(.reload)
        #expect(requests.hasPending && !requests.isStopRequested)
        requests.deliver(.terminate)
        #expect(requests.isStopRequested)
    }

    @Test func cancellationStillEndsAWait() async throws {
        let clock = ManualClock()
        let requests = DaemonRequests()
        let waiter = Task { await requests.waitForRequest() }
        let pause = Task { try await requests.pause(for: .seconds(60), on: clock) }
        #expect(await clock.waitForSleepers(1))
        waiter.cancel()
        await waiter.value
        pause.cancel()
        await #expect(throws: CancellationError.self) { try await pause.value }
    }
}
