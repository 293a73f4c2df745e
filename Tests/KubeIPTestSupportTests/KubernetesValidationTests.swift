import KubeIPSimulator
import KubeIPTestSupport
import Testing

@Suite("KubernetesAPIDouble: decoding and validation")
struct KubernetesValidationTests {
    @Test("Lease: leaseDurationSeconds must be > 0 (422 Invalid with causes)")
    func leaseDuration() async {
        let double = makeDouble()
        let answer = await send(double, "POST", leases, lease(duration: 0))
        #expect(answer.status == 422)
        #expect(answer.body == [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "reason": "Invalid", "code": 422,
            "message": "Lease.coordination.k8s.io \"ip-203-0-113-7\" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
            "details": ["name": "ip-203-0-113-7", "group": "coordination.k8s.io", "kind": "Lease",
                        "causes": [["reason": "FieldValueInvalid", "message": "Invalid value: 0: must be greater than 0",
                                    "field": "spec.leaseDurationSeconds"]]],
        ])
        let two = await send(double, "POST", leases, lease(duration: -1, extra: ["leaseTransitions": -1]))
        #expect(two.message.contains("is invalid: [spec.leaseDurationSeconds: Invalid value: -1: must be greater than 0, "
                                     + "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0]"))
    }

    @Test("MicroTime: exactly six fraction digits and a zone, as Go's RFC3339Micro layout parses",
          arguments: [("2026-12-04T10:00:00.123456Z", true), ("2026-12-04T10:00:00.123456+00:00", true),
                      ("2026-12-04T10:00:00.000000-05:30", true), ("2026-12-04T10:00:00Z", false),
                      ("2026-12-04T10:00:00.123Z", false), ("2026-12-04T10:00:00.123456789Z", false),
                      ("2026-12-04T10:00:00.123456", false), ("2026-12-04 10:00:00.123456Z", false)])
    func microTime(text: String, accepted: Bool) async {
        let double = makeDouble()
        let answer = await send(double, "POST", leases, lease(extra: ["renewTime": .string(text)]))
        #expect((answer.status == 201) == accepted, "\(answer.message)")
        if !accepted {
            #expect(answer.status == 400)
            #expect(answer.reason == "BadRequest")
            #expect(answer.message.hasPrefix("Lease in version \"v1\" cannot be handled as a Lease: parsing time \"\(text)\""))
        }
    }

    @Test("the decoding error names Go's layout element")
    func microTimeMessage() async {
        let double = makeDouble()
        let answer = await send(double, "POST", leases, lease(extra: ["acquireTime": "2026-12-04T10:00:00Z"]))
        #expect(answer.message == "Lease in version \"v1\" cannot be handled as a Lease: parsing time \"2026-12-04T10:00:00Z\" "
                + "as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"Z\" as \".000000\"")
        let typed = await send(double, "POST", leases, lease(duration: "15"))
        #expect(typed.status == 400)
        #expect(typed.message.hasSuffix("json: cannot unmarshal string into Go struct field LeaseSpec.spec.leaseDurationSeconds of type int32"))
    }

    @Test("unknown fields: Strict refuses, Warn (the default) drops with a Warning header, Ignore drops")
    func unknownFields() async {
        let double = makeDouble()
        let typo = lease(extra: ["holderIdentty": "node-9"]).replacing(["metadata", "colour"], with: "blue")
        let strict = await send(double, "POST", "\(leases)?fieldValidation=Strict", typo)
        #expect(strict.status == 400)
        #expect(strict.message == "Lease in version \"v1\" cannot be handled as a Lease: strict decoding error: "
                + "unknown field \"metadata.colour\", unknown field \"spec.holderIdentty\"")
        let warned = await send(double, "POST", leases, typo)
        #expect(warned.status == 201)
        #expect(warned["spec", "holderIdentty"] == nil)
        #expect(warned.headers.filter { $0.name == "Warning" }.map(\.value)
                == ["299 - \"unknown field \\\"metadata.colour\\\"\"", "299 - \"unknown field \\\"spec.holderIdentty\\\"\""])
        let ignored = await send(double, "PUT", "\(leases)/ip-203-0-113-7?fieldValidation=Ignore", typo)
        #expect(ignored.status == 200)
        #expect(ignored.header("Warning") == nil)
        await double.addNode(name: "node-1")
        let taint = await send(double, "PATCH", "/api/v1/nodes/node-1?fieldValidation=Strict",
                               ["spec": ["taints": [["key": "k", "effect": "NoSchedule", "colour": "red"]]]],
                               contentType: "application/merge-patch+json")
        #expect(taint.message.hasSuffix("strict decoding error: unknown field \"spec.taints[0].colour\""))
        #expect(await send(double, "POST", "\(leases)?fieldValidation=Maybe", lease("other")).status == 400)
        #expect(await send(double, "GET", "\(leases)?fieldValidation=Maybe").status == 200)
    }

    @Test("names are DNS subdomains; labels and annotations are qualified names with valid values")
    func names() async {
        let double = makeDouble()
        let upper = await send(double, "POST", leases, lease("Bad_Name"))
        #expect(upper.status == 422)
        #expect(upper.message.hasPrefix("Lease.coordination.k8s.io \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": "
                                        + "a lowercase RFC 1123 subdomain must consist of"))
        let long = await send(double, "POST", leases, lease(String(repeating: "a", count: 254)))
        #expect(long.message.contains("must be no more than 253 characters"))
        var labelled = lease()
        labelled = labelled.replacing(["metadata", "labels"], with: ["bad key": "v", "ok": "bad value!"])
        let labels = await send(double, "POST", leases, labelled)
        #expect(labels.status == 422)
        #expect(labels.message.contains("metadata.labels: Invalid value: \"bad key\": name part must consist of"))
        #expect(labels.message.contains("metadata.labels: Invalid value: \"bad value!\": a valid label must be an empty string"))
        let annotated = lease().replacing(["metadata", "annotations"], with: ["a/b/c": "x"])
        #expect(await send(double, "POST", leases, annotated).message.contains("a qualified name must consist of"))
        let nameless = await send(double, "POST", leases, lease("").replacing(["metadata", "name"], with: nil))
        #expect(nameless.message.hasSuffix("metadata.name: Required value: name or generateName is required"))
    }

    @Test("Node taints: a known effect, unique by key and effect")
    func taints() async {
        let double = makeDouble()
        await double.addNode(name: "node-1")
        let duplicate = await send(double, "PATCH", "/api/v1/nodes/node-1", ["spec": ["taints": [
            ["key": "k", "effect": "NoSchedule"], ["key": "k", "value": "v", "effect": "NoSchedule"],
            ["key": "k", "effect": "NoExecute"], ["key": "", "effect": ""],
        ]]], contentType: "application/merge-patch+json")
        #expect(duplicate.status == 422)
        #expect(duplicate.message.contains("spec.taints[1]: Duplicate value: core.Taint{Key:\"k\", Value:\"v\", Effect:\"NoSchedule\", TimeAdded:<nil>}: taints must be unique by key and effect pair"))
        #expect(!duplicate.message.contains("spec.taints[2]"))
        #expect(duplicate.message.contains("spec.taints[3].effect: Required value"))
        #expect(duplicate.message.contains("spec.taints[3].key: Invalid value: \"\": name part must be non-empty"))
    }

    @Test("events.k8s.io/v1 Events need eventTime, reportingController, reportingInstance, action, reason, a known type; note ≤ 1 KiB")
    func events() async {
        let double = makeDouble()
        let path = "/apis/events.k8s.io/v1/namespaces/default/events"
        let empty = await send(double, "POST", path, ["metadata": ["name": "e1"]])
        #expect(empty.status == 422)
        #expect(empty.message == "Event.events.k8s.io \"e1\" is invalid: [eventTime: Required value, type: Invalid value: \"\": has invalid value: ]")
        let fields = nodeEvent().replacing(["reportingController"], with: nil).replacing(["action"], with: nil)
            .replacing(["type"], with: "Info")
        let missing = await send(double, "POST", path, fields)
        #expect(missing.message.contains("reportingController: Required value"))
        #expect(missing.message.contains("action: Required value"))
        #expect(missing.message.contains("type: Invalid value: \"\": has invalid value: Info"))
        let long = await send(double, "POST", path, nodeEvent(note: String(repeating: "n", count: 1025)))
        #expect(long.message.hasSuffix("message: Invalid value: \"\": can have at most 1024 characters"))
        #expect(await send(double, "POST", path, nodeEvent(note: String(repeating: "n", count: 1024))).status == 201)
        let noFraction = await send(double, "POST", path, nodeEvent(extra: ["eventTime": "2026-12-04T10:00:00Z"]))
        #expect(noFraction.status == 400)
        let elsewhere = nodeEvent().replacing(["metadata", "namespace"], with: "kube-public")
        let namespaced = await send(double, "POST", "/apis/events.k8s.io/v1/namespaces/kube-public/events", elsewhere)
        #expect(namespaced.message.contains("involvedObject.namespace: Invalid value: \"\": does not match event.namespace"))
    }
}

@Suite("KubernetesAPIDouble: event updates")
struct KubernetesEventUpdateTests {
    @Test("an events.k8s.io/v1 Event may gain a series; what it says is immutable")
    func immutable() async {
        let double = makeDouble()
        let path = "/apis/events.k8s.io/v1/namespaces/default/events"
        let created = await send(double, "POST", path, nodeEvent())
        let name = created["metadata", "name"]!.stringValue!
        let series = await send(double, "PATCH", "\(path)/\(name)",
                                ["series": ["count": 2, "lastObservedTime": "2026-12-04T10:05:00.000000Z"]],
                                contentType: "application/strategic-merge-patch+json")
        #expect(series.status == 200)
        #expect(series["series", "count"] == 2)
        let bad = await send(double, "PATCH", "\(path)/\(name)", ["series": ["count": 1, "lastObservedTime": "2026-12-04T10:06:00.000000Z"]],
                             contentType: "application/merge-patch+json")
        #expect(bad.message.hasSuffix("series.count: Invalid value: \"\": should be at least 2"))
        let note = await send(double, "PATCH", "\(path)/\(name)", ["note": "changed", "reason": "Other"],
                              contentType: "application/merge-patch+json")
        #expect(note.status == 422)
        #expect(note.message.contains("reason: Invalid value: \"Other\": field is immutable"))
        #expect(note.message.contains("message: Invalid value: \"changed\": field is immutable"))
    }
}

@Suite("KubernetesTime")
struct KubernetesTimeTests {
    @Test("formats Time in whole seconds and MicroTime with six digits, UTC")
    func format() throws {
        let date = try KubernetesTime.parseMicroTime("2026-12-04T10:00:00.250000+01:00")
        #expect(KubernetesTime.formatTime(date) == "2026-12-04T09:00:00Z")
        #expect(KubernetesTime.formatMicroTime(date) == "2026-12-04T09:00:00.250000Z")
        #expect(try KubernetesTime.parseTime("2026-12-04T09:00:00.9Z") > date)
    }

    @Test("Go's messages for the common mistakes")
    func messages() {
        #expect(throws: KubernetesTime.ParseError.self) { try KubernetesTime.parseTime("2026-12-04T09:00:00") }
        do {
            _ = try KubernetesTime.parseMicroTime("2026-12-04T10:00:00.123456789Z")
        } catch {
            #expect(error.description == "parsing time \"2026-12-04T10:00:00.123456789Z\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse \"789Z\" as \"Z07:00\"")
        }
        do {
            _ = try KubernetesTime.parseTime("2026-12-04T10:00:00Zjunk")
        } catch {
            #expect(error.description == "parsing time \"2026-12-04T10:00:00Zjunk\": extra text: \"junk\"")
        }
    }
}
