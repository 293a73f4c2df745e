import KubeIPCore
import KubeIPSimulator
import Synchronization
import Testing

/// A role as kube mode uses the seams: records what the loop asks, can hold `announce` until
/// told, can say the machine is going away, idles after giving up.
final class ScriptedRole: DaemonRole {
    private let state = Mutex<(calls: [String], goingAway: Bool, announceGate: Bool)>(([], false, false))
    let goingAwayCheckInterval: Duration? = .seconds(30)

    var calls: [String] { state.withLock { $0.calls } }
    func setGoingAway(_ going: Bool = true) { state.withLock { $0.goingAway = going } }
    func holdAnnouncements() { state.withLock { $0.announceGate = true } }
    func openAnnouncements() { state.withLock { $0.announceGate = false } }
    private func log(_ call: String) { state.withLock { $0.calls.append(call) } }

    func prepare() async throws -> Bool { log("prepare"); return true }
    func announce(_ assignments: [Assignment]) async throws {
        while state.withLock({ $0.announceGate }) { await Task.yield() }
        log("announce \(assignments.map(\.address.ip).joined(separator: ","))")
    }
    func isGoingAway() async throws -> Bool { state.withLock { $0.goingAway } }
    func gaveUp(_ error: KubeIPError) async throws { log("gave up: \(error.code)") }
    func releaseOnStop(policy: ReleasePolicy) async -> Bool { policy == .always }
    func released(_ assignments: [Assignment]) async { log("released \(assignments.map(\.address.ip).joined(separator: ","))") }
    func ending(error: KubeIPError?) async { log("ending \(error.map { "\($0.code)" } ?? "ok")") }
}

@Suite struct DaemonLoopTests {
    struct Fixture {
        let cloud: SimulatedCloud
        let clock = ManualClock()
        let notifier = RecordingNotifier()
        let role = ScriptedRole()
        let health: DaemonHealth
        let me: InstanceIdentity
        let engine: AddressEngine

        init(addresses: Int = 1, retryAttempts: Int = 0) async {
            cloud = SimulatedCloud()
            for i in 0..<addresses { await cloud.allocateAddress("198.51.100.\(i + 1)", tags: ["kubeip": "reserved"]) }
            me = await cloud.launchInstance()
            health = DaemonHealth(clock: clock, stepBudget: .seconds(300))
            engine = AddressEngine(cloud: cloud.adapter(for: me.instanceID, filter: ["kubeip": ["reserved"]]),
                                   settings: EngineSettings(retryInterval: .seconds(10), retryAttempts: retryAttempts,
                                                            reconcileInterval: .seconds(300)),
                                   clock: clock, random: FixedRandom(), observer: health.observing(NoEngineObserver()))
        }

        func loop(policy: ReleasePolicy = .never) -> DaemonLoop {
            DaemonLoop(engine: engine, role: role, notifier: notifier, health: health, clock: clock, random: FixedRandom(),
                       releasePolicy: policy, reload: { throw KubeIPError(.io, "no reload") })
        }
    }

    @Test func readyComesOnlyAfterTheRoleAnnouncedTheHolding() async throws {
        let f = await Fixture()
        f.role.holdAnnouncements()
        let run = Task { try await f.loop().run() }
        #expect(await f.cloud.waitUntil { await $0.addresses(on: f.me.interfaceID).count == 1 })
        for _ in 0..<100 { await Task.yield() }
        #expect(!f.notifier.messages.contains { $0.hasPrefix("READY") })
        #expect(f.health.snapshot.ready == false)
        f.role.openAnnouncements()
        #expect(await f.notifier.waitFor("READY"))
        #expect(f.role.calls.contains("announce 198.51.100.1"))
        let health = f.health.snapshot
        #expect(health.phase == .holding && health.ready && health.alive)
        f.engine.requests.requestStop()
        #expect(try await run.value == .stopped(released: false))
        #expect(f.role.calls.last == "ending ok")
        #expect(f.health.snapshot.phase == .stopped)
    }

    @Test func aMachineGoingAwayGivesItsAddressBackAndIdles() async throws {
        let f = await Fixture()
        let run = Task { try await f.loop().run() }
        #expect(await f.notifier.waitFor("READY"))
        f.role.setGoingAway()
        // The role is asked every 30 s, well before the 5-minute hold check.
        #expect(await f.clock.advanceToNextSleeper())
        #expect(await f.notifier.waitFor("STATUS released: the machine is going away"))
        #expect(await f.cloud.addresses(on: f.me.interfaceID).isEmpty)
        #expect(f.role.calls.contains("released 198.51.100.1"))
        #expect(f.health.snapshot.phase == .idle && !f.health.snapshot.ready)
        // Nothing is claimed again while it is going away...
        for _ in 0..<3 { #expect(await f.clock.advanceToNextSleeper()) }
        #expect(await f.cloud.addresses(on: f.me.interfaceID).isEmpty)
        // ...but a removal called off (the taint taken back) claims again at the next check.
        f.role.setGoingAway(false)
        #expect(await f.clock.advanceToNextSleeper())
        #expect(await f.cloud.waitUntil { await $0.addresses(on: f.me.interfaceID).count == 1 })
        #expect(await f.notifier.waitFor("STATUS holding"))
        f.engine.requests.requestStop()
        #expect(try await run.value == .stopped(released: false))
    }

    @Test func aRoleThatIdlesAfterGivingUpKeepsTheDaemonAlive() async throws {
        let f = await Fixture(addresses: 0, retryAttempts: 2)
        let run = Task { try await f.loop().run() }
        #expect(await f.clock.advanceToNextSleeper())
        #expect(await f.notifier.waitFor("STATUS gave up"))
        #expect(f.role.calls.contains("gave up: poolExhausted"))
        #expect(f.health.snapshot.phase == .idle && f.health.snapshot.alive)
        f.engine.requests.requestStop()
        #expect(try await run.value == .stopped(released: false))
    }

    @Test(arguments: [ReleasePolicy.never, .always])
    func aStopDuringAClaimLetsTheClaimFinishThenKeepsOrReleases(policy: ReleasePolicy) async throws {
        let f = await Fixture()
        let gate = Gate()
        let engine = AddressEngine(cloud: f.gated(gate), settings: EngineSettings(), clock: f.clock, random: FixedRandom())
        let loop = DaemonLoop(engine: engine, role: f.role, notifier: f.notifier, health: f.health, clock: f.clock,
                              releasePolicy: policy, reload: { throw KubeIPError(.io, "no reload") })
        let run = Task { try await loop.run() }
        #expect(await gate.waitForArrival())
        engine.requests.requestStop()
        gate.open()
        #expect(try await run.value == .stopped(released: policy == .always))
        // The attach ran to its end (no cancellation); then the policy decided.
        #expect(await f.cloud.calls[.associate] == 1)
        #expect(await f.cloud.addresses(on: f.me.interfaceID).count == (policy == .always ? 0 : 1))
        #expect(!f.notifier.messages.contains { $0.hasPrefix("READY") })
    }

    @Test func aStepPastItsBudgetIsNotAliveAndStopsTheWatchdog() async throws {
        let f = await Fixture()
        let gate = Gate()
        let notifier = RecordingNotifier(watchdog: .seconds(60))
        let engine = AddressEngine(cloud: f.gated(gate), settings: EngineSettings(), clock: f.clock, random: FixedRandom(),
                                   observer: f.health.observing(NoEngineObserver()))
        let loop = DaemonLoop(engine: engine, role: f.role, notifier: notifier, health: f.health, clock: f.clock,
                              releasePolicy: .never, reload: { throw KubeIPError(.io, "no reload") })
        let run = Task { try await loop.run() }
        // The attach hangs: only the watchdog sleeps on the clock, pinging every 30 s while alive.
        #expect(await gate.waitForArrival())
        #expect(await notifier.waitFor("WATCHDOG"))
        func tick() async {
            let slept = f.clock.sleeps.count
            #expect(await f.clock.waitForSleepers(1))
            f.clock.advance(by: .seconds(30))
            for _ in 0..<20_000 where f.clock.sleeps.count == slept { try? await Task.sleep(for: .milliseconds(1)) }
        }
        for _ in 0..<9 { await tick() }   // 270 s: within the 300 s budget
        #expect(f.health.snapshot.alive)
        #expect(notifier.messages.filter { $0 == "WATCHDOG" }.count == 10)
        for _ in 0..<3 { await tick() }   // 360 s: past it
        #expect(!f.health.snapshot.alive)
        #expect(notifier.messages.filter { $0 == "WATCHDOG" }.count == 11)
        engine.requests.requestStop()
        gate.open()
        _ = try await run.value
    }
}

/// Holds the first attach until opened, so a test can act while a claim is in flight.
final class Gate: Sendable {
    private let state = Mutex<(arrived: Bool, open: Bool)>((false, false))
    func arrive() async {
        state.withLock { $0.arrived = true }
        while !state.withLock({ $0.open }) { await Task.yield() }
    }
    func open() { state.withLock { $0.open = true } }
    /// True once an attach arrived; false after about 20 s of real time (a broken test fails, not hangs).
    func waitForArrival() async -> Bool {
        for _ in 0..<20_000 {
            if state.withLock({ $0.arrived }) { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return false
    }
}

extension DaemonLoopTests.Fixture {
    func gated(_ gate: Gate) -> CloudAdapter {
        cloud.adapter(for: me.instanceID, filter: ["kubeip": ["reserved"]]).intercepting { pool in
            pool.aroundAttach = { _, proceed in
                await gate.arrive()
                try await proceed()
            }
        }
    }
}

extension SimulatedCloud {
    /// Waits until `condition` holds (false after about 20 s of real time, so a broken test fails
    /// instead of hanging).
    func waitUntil(_ condition: @Sendable (SimulatedCloud) async -> Bool) async -> Bool {
        for _ in 0..<20_000 {
            if await condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return false
    }
}
