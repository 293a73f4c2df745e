import Foundation
import Testing
@testable import KubeIPKube

@Suite struct EventTests {
    private func event(note: String?) throws -> Event {
        Event(metadata: ObjectMeta(generateName: "kubeip-", namespace: "default"),
              eventTime: try #require(MicroTime("2026-12-04T18:48:47.123456Z")),
              reportingController: "kubeip.io/kubeip", reportingInstance: "ip-10-0-0-1", action: "Assign",
              reason: "AddressAssigned", regarding: ObjectReference(node: Node(metadata: ObjectMeta(name: "ip-10-0-0-1"))),
              note: note, type: .warning,
              series: .init(count: 2, lastObservedTime: try #require(MicroTime("2026-12-04T18:50:00Z"))))
    }

    @Test func notesAreCutToOneKibibyteOnACharacterBoundary() throws {
        let long = String(repeating: "é", count: 600)   // 1200 bytes
        let note = try #require(try event(note: long).note)
        #expect(note.utf8.count == 1024)
        #expect(note.allSatisfy { $0 == "é" })
        #expect(try event(note: "short").note == "short")
    }

    @Test func encodesTheEventsAPIShape() throws {
        let text = String(decoding: try KubernetesSchema.encoded(try event(note: "n")), as: UTF8.self)
        #expect(text.contains(#""eventTime":"2026-12-04T18:48:47.123456Z""#))
        #expect(text.contains(#""series":{"count":2,"lastObservedTime":"2026-12-04T18:50:00.000000Z"}"#))
        #expect(text.contains(#""type":"Warning""#))
        #expect(text.contains(#""regarding":{"apiVersion":"v1","kind":"Node","name":"ip-10-0-0-1"}"#))
    }

    @Test(.enabled(if: KubernetesSchema.available, "needs ../shared/testdata/kubernetes"))
    func encodesOnlyFieldsOfTheSchema() throws {
        #expect(KubernetesSchema.problems(try KubernetesSchema.encoded(try event(note: "n")), as: "io.k8s.api.events.v1.Event") == [])
    }
}
