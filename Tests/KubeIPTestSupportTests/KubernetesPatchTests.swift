import KubeIPSimulator
import KubeIPTestSupport
import Testing

@Suite("KubernetesAPIDouble: patches and the status subresource")
struct KubernetesPatchTests {
    let node = "/api/v1/nodes/node-1"

    func doubleWithNode() async -> KubernetesAPIDouble {
        let double = makeDouble()
        await double.addNode(name: "node-1", providerID: "aws:///us-east-1a/i-1", labels: ["pool": "a"],
                             taints: [.init(key: "kubeip.com/not-ready", effect: "NoSchedule"),
                                      .init(key: "other", value: "x", effect: "NoExecute")])
        return double
    }

    @Test("JSON patch (RFC 6902): test, add, replace, remove, in order")
    func jsonPatch() async {
        let double = await doubleWithNode()
        let patched = await send(double, "PATCH", node, [
            ["op": "test", "path": "/metadata/labels/pool", "value": "a"],
            ["op": "add", "path": "/metadata/labels/kubeip.com~1assigned", "value": "true"],
            ["op": "replace", "path": "/metadata/labels/pool", "value": "b"],
            ["op": "remove", "path": "/spec/taints/0"],
        ], contentType: "application/json-patch+json")
        #expect(patched.status == 200)
        #expect(patched["metadata", "labels", "kubeip.com/assigned"] == "true")
        #expect(patched["metadata", "labels", "pool"] == "b")
        #expect(patched["spec", "taints"]?.arrayValue?.count == 1)
    }

    @Test("JSON patch: a failed test is the apiserver's 422 (Invalid, UnexpectedServerResponse cause); nothing changes")
    func failedTest() async {
        let double = await doubleWithNode()
        let before = await double.node("node-1")
        let failed = await send(double, "PATCH", node, [
            ["op": "test", "path": "/metadata/labels/pool", "value": "z"],
            ["op": "replace", "path": "/metadata/labels/pool", "value": "b"],
        ], contentType: "application/json-patch+json")
        #expect(failed.status == 422)
        #expect(failed.body == ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                                "message": "the server rejected our request due to an error in our request",
                                "reason": "Invalid", "code": 422,
                                "details": ["causes": [["reason": "UnexpectedServerResponse",
                                                        "message": "testing value /metadata/labels/pool failed: test failed"]]]])
        #expect(await double.node("node-1") == before)
        let missing = await send(double, "PATCH", node, [["op": "remove", "path": "/metadata/labels/nope"]],
                                 contentType: "application/json-patch+json")
        #expect(missing.status == 422)
        #expect(missing["details", "causes"]?[0]?["message"]
                == "remove operation does not apply: doc is missing path: \"/metadata/labels/nope\": missing value")
    }

    @Test("merge patch (RFC 7386): maps merge, null removes, lists are replaced")
    func mergePatch() async {
        let double = await doubleWithNode()
        let patched = await send(double, "PATCH", node, [
            "metadata": ["labels": ["pool": nil, "new": "1"]],
            "spec": ["taints": [["key": "only", "effect": "NoSchedule"]]],
        ], contentType: "application/merge-patch+json")
        #expect(patched["metadata", "labels", "pool"] == nil)
        #expect(patched["metadata", "labels", "new"] == "1")
        #expect(patched["spec", "taints"] == [["key": "only", "effect": "NoSchedule"]])
    }

    @Test("strategic merge patch: taints are atomic (replaced), addresses merge by type on /status, finalizers merge")
    func strategicMergePatch() async {
        let double = await doubleWithNode()
        let smp = "application/strategic-merge-patch+json"
        let taints = await send(double, "PATCH", node, ["spec": ["taints": [["key": "other", "value": "x", "effect": "NoExecute"]]]],
                                contentType: smp)
        #expect(taints["spec", "taints"] == [["key": "other", "value": "x", "effect": "NoExecute"]])
        let status = await send(double, "PATCH", "\(node)/status",
                                ["status": ["addresses": [["type": "ExternalIP", "address": "203.0.113.7"]]]], contentType: smp)
        #expect(status.status == 200)
        let addresses = status["status", "addresses"]?.arrayValue?.compactMap { $0["type"]?.stringValue }
        #expect(addresses == ["InternalIP", "Hostname", "ExternalIP"])
        let removed = await send(double, "PATCH", "\(node)/status",
                                 ["status": ["addresses": [["type": "Hostname", "$patch": "delete"]]]], contentType: smp)
        #expect(removed["status", "addresses"]?.arrayValue?.count == 2)
        _ = await send(double, "PATCH", node, ["metadata": ["finalizers": ["a"]]], contentType: smp)
        let merged = await send(double, "PATCH", node, ["metadata": ["finalizers": ["b"]]], contentType: smp)
        #expect(merged["metadata", "finalizers"] == ["a", "b"])
        let replaced = await send(double, "PATCH", "\(node)/status",
                                  ["status": ["addresses": [["$patch": "replace"], ["type": "InternalIP", "address": "10.1.1.1"]]]],
                                  contentType: smp)
        #expect(replaced["status", "addresses"] == [["type": "InternalIP", "address": "10.1.1.1"]])
    }

    @Test("the main resource cannot change status; /status cannot change spec (metadata may change, as in nodeStatusStrategy)")
    func subresourceSplit() async {
        let double = await doubleWithNode()
        let main = await send(double, "PATCH", node, ["status": ["addresses": []], "metadata": ["labels": ["x": "y"]]],
                              contentType: "application/merge-patch+json")
        #expect(main.status == 200)
        #expect(main["status", "addresses"]?.arrayValue?.count == 2)
        #expect(main["metadata", "labels", "x"] == "y")
        let status = await send(double, "PATCH", "\(node)/status", ["spec": ["providerID": "changed"], "status": ["phase": "Running"],
                                                                    "metadata": ["labels": ["via": "status"]]],
                                contentType: "application/merge-patch+json")
        #expect(status["spec", "providerID"] == "aws:///us-east-1a/i-1")
        #expect(status["metadata", "labels", "via"] == "status")
        #expect(status["status", "phase"] == "Running")
        let put = await send(double, "PUT", "\(node)/status", status.body.replacing(["status", "addresses"], with: []))
        #expect(put.status == 200)
        #expect(put["status", "addresses"] == [])
    }

    @Test("a patch whose result is invalid is a 422; a stale resourceVersion in a patch is a 409; unknown types 415")
    func patchRefusals() async {
        let double = await doubleWithNode()
        let invalid = await send(double, "PATCH", node, ["spec": ["taints": [["key": "k", "effect": "Sometimes"]]]],
                                 contentType: "application/merge-patch+json")
        #expect(invalid.status == 422)
        #expect(invalid.message == "Node \"node-1\" is invalid: spec.taints[0].effect: Unsupported value: \"Sometimes\": "
                + "supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"")
        let stale = await send(double, "PATCH", node, ["metadata": ["resourceVersion": "1", "labels": ["a": "b"]]],
                               contentType: "application/merge-patch+json")
        #expect(stale.status == 409)
        let apply = await send(double, "PATCH", node, contentType: "application/apply-patch+yaml", rawBody: "apiVersion: v1")
        #expect(apply.status == 415)
        #expect(apply.reason == "UnsupportedMediaType")
        #expect(await send(double, "PATCH", "\(leases)/none", ["spec": [:]], contentType: "application/merge-patch+json").status == 404)
    }
}
