import Foundation
import Testing
@testable import KubeIPKube

@Suite struct JSONPatchTests {
    @Test func pointersEscapeTildeAndSlash() {
        #expect(JSONPointer("metadata", "annotations", "kubeip.io/address").description == "/metadata/annotations/kubeip.io~1address")
        #expect(JSONPointer(["a~b", "c/d", "~1"]).description == "/a~0b/c~1d/~01")
        #expect(JSONPointer([]).description == "")
        #expect(JSONPointer("spec", "taints").appending(index: 3).description == "/spec/taints/3")
        #expect(JSONPointer(parsing: "/a~0b/c~1d/~01") == JSONPointer(["a~b", "c/d", "~1"]))
        #expect(JSONPointer(parsing: "no-slash") == nil)
    }

    private struct Taint: Encodable, Sendable { var key: String; var effect: String }

    @Test func buildsTypedOperations() throws {
        var patch = JSONPatch()
        patch.test(["metadata", "resourceVersion"], "4711")
        patch.remove(JSONPointer("spec", "taints").appending(index: 1))
        patch.add(["spec", "taints", "-"], Taint(key: "kubeip.io/waiting", effect: "NoSchedule"))
        patch.replace(["metadata", "labels", "kubeip.io~ready"], true)
        patch.add(["metadata", "annotations", "n"], 3)
        patch.test(["metadata", "annotations", "gone"], String?.none)
        let text = String(decoding: try KubernetesSchema.encoded(patch), as: UTF8.self)
        #expect(text == #"[{"op":"test","path":"/metadata/resourceVersion","value":"4711"},{"op":"remove","path":"/spec/taints/1"},{"op":"add","path":"/spec/taints/-","value":{"effect":"NoSchedule","key":"kubeip.io/waiting"}},{"op":"replace","path":"/metadata/labels/kubeip.io~0ready","value":true},{"op":"add","path":"/metadata/annotations/n","value":3},{"op":"test","path":"/metadata/annotations/gone","value":null}]"#)
        #expect(patch.operations.map(\.op) == [.test, .remove, .add, .replace, .add, .test])
    }

    @Test func contentTypes() {
        #expect(PatchType.json.contentType == "application/json-patch+json")
        #expect(PatchType.merge.contentType == "application/merge-patch+json")
        #expect(PatchType.strategicMerge.contentType == "application/strategic-merge-patch+json")
    }
}
