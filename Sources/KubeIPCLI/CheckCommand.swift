import ArgumentParser
import KubeIPConfig
import KubeIPCore
import KubeIPSystemd
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The part of `check` and `status` output that describes one address.
struct AddressReport: Codable, Equatable {
    var id: String
    var ip: String
    var family: String
    var holder: String?
    var heldByThisInstance: Bool

    init(_ address: PoolAddress, identity: InstanceIdentity) {
        id = address.id
        ip = address.ip
        family = address.family.rawValue
        holder = address.holder.map { $0.instanceID.map { id in "\(id) (\(address.holder!.interfaceID))" } ?? $0.interfaceID }
        heldByThisInstance = address.isHeld(by: identity)
    }
}

/// `kubeip check`: validate, identify, list, plan; change nothing.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the settings, show this instance and the pool, print the plan. Changes nothing.")

    @OptionGroup var options: SettingOptions
    @Flag(help: "Print the report as JSON.")
    var json = false

    struct Report: Codable {
        struct Setting: Codable { var key: String; var value: String?; var origin: String }
        struct Family: Codable {
            var family: String
            var pool: [AddressReport]
            var keep: AddressReport?
            var tryInOrder: [AddressReport]
            var action: String
        }
        var settings: [Setting]
        /// `host` or `kube`, and why when it was detected.
        var mode: String
        var modeReason: String?
        var identity: InstanceIdentity
        var families: [Family]
    }

    func run() async throws {
        let runtime = Runtime.production()
        let settings = try runtime.settings(flags: options.given)
        let logger = runtime.bootstrapLogging(settings)
        do {
            let engine = AddressEngine(cloud: try await runtime.commandCloud(for: settings, logger: logger),
                                       settings: settings.engineSettings, clock: runtime.clock, random: runtime.random,
                                       state: FileStateStore(directory: runtime.stateDirectory), logger: logger)
            let plan = try await engine.plan()
            let report = Report(
                settings: SettingsTable.all.map {
                    .init(key: $0.key, value: settings.value(of: $0.key), origin: "\(settings.origin(of: $0.key))")
                },
                mode: settings.mode.rawValue, modeReason: settings.modeReason,
                identity: plan.identity,
                families: plan.families.map { family in
                    let action: String
                    if let held = family.held {
                        action = "keep \(held.ip) (\(held.id)): already attached to this instance"
                    } else if let first = family.candidates.first {
                        action = "claim \(first.ip) (\(first.id)), then the next on a lost race"
                    } else {
                        action = "wait: no free address; look again every \(GoDuration.format(settings.retryInterval))"
                    }
                    return .init(family: family.family.rawValue,
                                 pool: family.pool.map { AddressReport($0, identity: plan.identity) },
                                 keep: family.held.map { AddressReport($0, identity: plan.identity) },
                                 tryInOrder: family.candidates.map { AddressReport($0, identity: plan.identity) },
                                 action: action)
                })
            if json {
                print(try encodeJSON(report))
            } else {
                printText(report)
            }
        } catch let error as KubeIPError {
            Runtime.printError(error)
            throw ExitCode(error.exitCode)
        }
    }

    private func printText(_ report: Report) {
        print("Settings")
        let width = report.settings.map(\.key.count).max() ?? 0
        for setting in report.settings {
            let padding = String(repeating: " ", count: width - setting.key.count)
            print("  \(setting.key)\(padding)  \(setting.value.flatMap { $0.isEmpty ? nil : $0 } ?? "(unset)")  [\(setting.origin)]")
        }
        let id = report.identity
        print("")
        print("This instance")
        print("  mode \(report.mode)" + (report.modeReason.map { " (detected: \($0))" } ?? ""))
        print("  cloud \(id.cloud), instance \(id.instanceID), region \(id.region), zone \(id.zone), interface \(id.interfaceID)")
        for family in report.families {
            print("")
            print("Pool (\(family.family)): \(family.pool.count) address\(family.pool.count == 1 ? "" : "es"), \(family.pool.filter { $0.holder == nil }.count) free")
            for address in family.pool {
                let who = address.heldByThisInstance ? "held by this instance" : (address.holder.map { "held by \($0)" } ?? "free")
                print("  \(address.ip)  \(address.id)  \(who)")
            }
            print("Plan (\(family.family)): \(family.action)")
            if family.keep == nil && family.tryInOrder.count > 1 {
                print("  order: " + family.tryInOrder.map(\.ip).joined(separator: ", "))
            }
        }
        print("")
        print("Nothing was changed.")
    }
}

/// Pretty, key-sorted JSON.
func encodeJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// `kubeip status`: what this instance holds now.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show this instance and the pool addresses it holds now.")

    @OptionGroup var options: SettingOptions
    @Flag(help: "Print the status as JSON.")
    var json = false

    struct Report: Codable {
        var identity: InstanceIdentity
        var holding: [AddressReport]
        var lastHeld: [HeldAddressRecord]
    }

    func run() async throws {
        let runtime = Runtime.production()
        let settings = try runtime.settings(flags: options.given)
        let logger = runtime.bootstrapLogging(settings)
        do {
            let state = FileStateStore(directory: runtime.stateDirectory)
            let engine = AddressEngine(cloud: try await runtime.commandCloud(for: settings, logger: logger),
                                       settings: settings.engineSettings, clock: runtime.clock, random: runtime.random,
                                       state: state, logger: logger)
            let held = try await engine.currentHoldings()
            let me = try await engine.discover()
            let report = Report(identity: me, holding: held.map { AddressReport($0.address, identity: me) },
                                lastHeld: await state.load().filter { $0.instanceID == me.instanceID })
            if json {
                print(try encodeJSON(report))
            } else {
                print("instance \(me.instanceID) in \(me.zone), interface \(me.interfaceID)")
                if held.isEmpty { print("holding no pool address") }
                for assignment in held { print("holding \(assignment.summary)") }
                for record in report.lastHeld {
                    print("last held (\(record.family.rawValue)): \(record.ip) (\(record.addressID))")
                }
            }
        } catch let error as KubeIPError {
            Runtime.printError(error)
            throw ExitCode(error.exitCode)
        }
    }
}

/// `kubeip settings --format ...` (hidden): renders the settings table.
struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "Render the settings table (README, man page, packaged kubeip.yaml).",
        shouldDisplay: false)

    enum Format: String, ExpressibleByArgument, CaseIterable { case markdown, man, yaml }

    @Option(help: "markdown, man or yaml.")
    var format: Format = .markdown

    func run() {
        switch format {
        case .markdown: print(SettingsDocumentation.markdownTable(), terminator: "")
        case .man: print(SettingsDocumentation.manSection(), terminator: "")
        case .yaml: print(SettingsDocumentation.configFile(), terminator: "")
        }
    }
}
