import KubeIPSimulator

/// What the apiserver checks before storing an object of the types the double serves: first
/// that the JSON decodes into the Go type (wrong JSON types and malformed `Time`/`MicroTime`
/// are a 400), then the registry strategy's validation (a 422 listing every field error).
/// Sources: `pkg/apis/coordination/validation`, `pkg/apis/core/validation` (ValidateNode,
/// validateNodeTaints, events.go), `apimachinery/pkg/api/validation` (ValidateObjectMeta).
enum KubernetesValidation {
    enum FieldType {
        case string, int32, int64, bool, time, microTime, stringMap, stringList, object, list
    }

    /// The typed fields decoding checks: path → (Go struct owning it, type).
    static func typedFields(_ type: KubernetesResourceType) -> [([String], String, FieldType)] {
        var fields: [([String], String, FieldType)] = [
            (["metadata", "name"], "ObjectMeta", .string), (["metadata", "generateName"], "ObjectMeta", .string),
            (["metadata", "namespace"], "ObjectMeta", .string), (["metadata", "uid"], "ObjectMeta", .string),
            (["metadata", "resourceVersion"], "ObjectMeta", .string), (["metadata", "labels"], "ObjectMeta", .stringMap),
            (["metadata", "annotations"], "ObjectMeta", .stringMap), (["metadata", "finalizers"], "ObjectMeta", .stringList),
            (["metadata", "creationTimestamp"], "ObjectMeta", .time), (["metadata", "deletionTimestamp"], "ObjectMeta", .time),
            (["metadata", "generation"], "ObjectMeta", .int64),
        ]
        switch type {
        case .leases:
            fields += [
                (["spec"], "Lease", .object), (["spec", "holderIdentity"], "LeaseSpec", .string),
                (["spec", "leaseDurationSeconds"], "LeaseSpec", .int32), (["spec", "acquireTime"], "LeaseSpec", .microTime),
                (["spec", "renewTime"], "LeaseSpec", .microTime), (["spec", "leaseTransitions"], "LeaseSpec", .int32),
                (["spec", "strategy"], "LeaseSpec", .string), (["spec", "preferredHolder"], "LeaseSpec", .string),
            ]
        case .nodes:
            fields += [
                (["spec"], "Node", .object), (["status"], "Node", .object),
                (["spec", "providerID"], "NodeSpec", .string), (["spec", "podCIDR"], "NodeSpec", .string),
                (["spec", "unschedulable"], "NodeSpec", .bool), (["spec", "taints"], "NodeSpec", .list),
                (["status", "addresses"], "NodeStatus", .list), (["status", "conditions"], "NodeStatus", .list),
            ]
        case .events:
            fields += [
                (["eventTime"], "Event", .microTime), (["series"], "Event", .object),
                (["series", "count"], "EventSeries", .int32), (["series", "lastObservedTime"], "EventSeries", .microTime),
                (["reportingController"], "Event", .string), (["reportingInstance"], "Event", .string),
                (["action"], "Event", .string), (["reason"], "Event", .string), (["type"], "Event", .string),
                (["note"], "Event", .string), (["regarding"], "Event", .object), (["related"], "Event", .object),
                (["deprecatedFirstTimestamp"], "Event", .time), (["deprecatedLastTimestamp"], "Event", .time),
                (["deprecatedCount"], "Event", .int32), (["deprecatedSource"], "Event", .object),
            ]
        case .coreEvents:
            fields += [
                (["eventTime"], "Event", .microTime), (["series"], "Event", .object),
                (["series", "count"], "EventSeries", .int32), (["series", "lastObservedTime"], "EventSeries", .microTime),
                (["reportingComponent"], "Event", .string), (["reportingInstance"], "Event", .string),
                (["action"], "Event", .string), (["reason"], "Event", .string), (["type"], "Event", .string),
                (["message"], "Event", .string), (["involvedObject"], "Event", .object), (["related"], "Event", .object),
                (["firstTimestamp"], "Event", .time), (["lastTimestamp"], "Event", .time),
                (["count"], "Event", .int32), (["source"], "Event", .object),
            ]
        default:
            break
        }
        return fields
    }

    /// Decodes the JSON as the Go type would: a 400 worded as `transformDecodeError` words it
    /// when it does not fit; otherwise the object with its times as the server writes them
    /// back (UTC; `Time` in whole seconds, `MicroTime` with six digits).
    static func decoded(_ object: JSONValue, as type: KubernetesResourceType) throws(KubernetesStatusError) -> JSONValue {
        if let error = checkDecodes(object, as: type) { throw error }
        var normalized = object
        for (path, _, fieldType) in typedFields(type) where fieldType == .time || fieldType == .microTime {
            guard let text = object[path: path]?.stringValue, !text.isEmpty else { continue }
            if fieldType == .time, let date = try? KubernetesTime.parseTime(text) {
                normalized.set(path, .string(KubernetesTime.formatTime(date)))
            } else if fieldType == .microTime, let date = try? KubernetesTime.parseMicroTime(text) {
                normalized.set(path, .string(KubernetesTime.formatMicroTime(date)))
            }
        }
        return normalized
    }

    /// Decoding the JSON into the Go type: a 400 worded as `transformDecodeError` words it.
    static func checkDecodes(_ object: JSONValue, as type: KubernetesResourceType) -> KubernetesStatusError? {
        func fail(_ why: String) -> KubernetesStatusError {
            .badRequest("\(type.kind) in version \(goQuote(type.version)) cannot be handled as a \(type.kind): \(why)")
        }
        guard object.objectValue != nil else { return fail("json: cannot unmarshal \(jsonTypeName(object)) into Go value of type struct") }
        for (path, owner, fieldType) in typedFields(type) {
            guard let value = object[path: path], value != .null else { continue }
            let dotted = path.joined(separator: ".")
            func mismatch(_ goType: String) -> KubernetesStatusError {
                fail("json: cannot unmarshal \(jsonTypeName(value)) into Go struct field \(owner).\(dotted) of type \(goType)")
            }
            switch fieldType {
            case .string:
                if value.stringValue == nil { return mismatch("string") }
            case .int32, .int64:
                guard case .number(let number) = value, number.rounded() == number else {
                    return mismatch(fieldType == .int32 ? "int32" : "int64")
                }
                if fieldType == .int32 && (number > 2_147_483_647 || number < -2_147_483_648) {
                    return fail("json: cannot unmarshal number \(Int(number)) into Go struct field \(owner).\(dotted) of type int32")
                }
            case .bool:
                if value.boolValue == nil { return mismatch("bool") }
            case .time, .microTime:
                guard let text = value.stringValue else {
                    return mismatch(fieldType == .time ? "v1.Time" : "v1.MicroTime")
                }
                if text.isEmpty { continue }
                do {
                    _ = fieldType == .time ? try KubernetesTime.parseTime(text) : try KubernetesTime.parseMicroTime(text)
                } catch {
                    return fail(error.description)
                }
            case .stringMap:
                if value.stringMap == nil { return mismatch("map[string]string") }
            case .stringList:
                guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else { return mismatch("[]string") }
            case .object:
                if value.objectValue == nil { return mismatch("struct") }
            case .list:
                guard let items = value.arrayValue, items.allSatisfy({ $0.objectValue != nil }) else { return mismatch("[]struct") }
            }
        }
        return nil
    }

    private static func jsonTypeName(_ value: JSONValue) -> String {
        switch value {
        case .string: "string"
        case .number: "number"
        case .bool: "bool"
        case .array: "array"
        case .object: "object"
        case .null: "null"
        }
    }

    /// The strategy's validation on create and update; empty when valid.
    static func validate(_ object: JSONValue, as type: KubernetesResourceType) -> [FieldError] {
        var errors = validateMeta(object, type: type)
        switch type {
        case .leases: errors += validateLease(object)
        case .nodes: errors += validateNode(object)
        case .events: errors += validateEvent(object, strict: true)
        case .coreEvents: errors += validateEvent(object, strict: false)
        default: break
        }
        return errors
    }

    /// `ValidateObjectMeta`: name syntax (subdomain, or a label for namespaces), labels, annotations.
    static func validateMeta(_ object: JSONValue, type: KubernetesResourceType) -> [FieldError] {
        var errors: [FieldError] = []
        let name = object.string(at: ["metadata", "name"])
        if name.isEmpty {
            errors.append(.required("metadata.name", "name or generateName is required"))
        } else {
            let problems = type == .namespaces ? KubernetesNames.dns1123Label(name) : KubernetesNames.dns1123Subdomain(name)
            errors += problems.map { .invalid("metadata.name", goQuote(name), $0) }
        }
        if let labels = object[path: ["metadata", "labels"]]?.stringMap {
            errors += KubernetesNames.validateLabels(labels, path: "metadata.labels")
        }
        if let annotations = object[path: ["metadata", "annotations"]]?.stringMap {
            errors += KubernetesNames.validateAnnotations(annotations, path: "metadata.annotations")
        }
        return errors
    }

    /// `ValidateLeaseSpec`.
    static func validateLease(_ object: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        if let duration = object[path: ["spec", "leaseDurationSeconds"]]?.intValue, duration <= 0 {
            errors.append(.invalid("spec.leaseDurationSeconds", String(duration), "must be greater than 0"))
        }
        if let transitions = object[path: ["spec", "leaseTransitions"]]?.intValue, transitions < 0 {
            errors.append(.invalid("spec.leaseTransitions", String(transitions), "must be greater than or equal to 0"))
        }
        let strategy = object.string(at: ["spec", "strategy"])
        if !strategy.isEmpty && strategy != "OldestEmulationVersion" {
            errors.append(.notSupported("spec.strategy", strategy, ["OldestEmulationVersion"]))
        }
        if !object.string(at: ["spec", "preferredHolder"]).isEmpty && strategy.isEmpty {
            errors.append(.forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"))
        }
        return errors
    }

    /// `validateNodeTaints` (key, value, effect, unique by key and effect) and address types.
    static func validateNode(_ object: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        let effects = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
        var seen: Set<String> = []
        for (index, taint) in (object[path: ["spec", "taints"]]?.arrayValue ?? []).enumerated() {
            let path = "spec.taints[\(index)]"
            let key = taint["key"]?.stringValue ?? ""
            let value = taint["value"]?.stringValue ?? ""
            let effect = taint["effect"]?.stringValue ?? ""
            errors += KubernetesNames.qualifiedName(key).map { .invalid("\(path).key", goQuote(key), $0) }
            let valueProblems = KubernetesNames.labelValue(value)
            if !valueProblems.isEmpty { errors.append(.invalid("\(path).value", goQuote(value), valueProblems.joined(separator: ";"))) }
            if effect.isEmpty {
                errors.append(.required("\(path).effect"))
            } else if !effects.contains(effect) {
                errors.append(.notSupported("\(path).effect", effect, effects))
            }
            if !seen.insert("\(effect)\u{0}\(key)").inserted {
                let added = taint["timeAdded"]?.stringValue.map { "time.Date(\($0))" } ?? "<nil>"
                errors.append(.duplicate(path, "core.Taint{Key:\(goQuote(key)), Value:\(goQuote(value)), Effect:\(goQuote(effect)), TimeAdded:\(added)}",
                                         "taints must be unique by key and effect pair"))
            }
        }
        return errors
    }

    /// `ValidateEventCreate`: the legacy checks for core/v1, plus the strict ones for events.k8s.io/v1.
    /// The field names are the internal type's (`involvedObject`, `message`), as the real messages give them.
    static func validateEvent(_ object: JSONValue, strict: Bool) -> [FieldError] {
        // Both representations are checked in core/v1 terms.
        let core = strict ? KubernetesEventConversion.toCore(object) : object
        var errors: [FieldError] = []
        let namespace = core.string(at: ["metadata", "namespace"])
        let involvedNamespace = core.string(at: ["involvedObject", "namespace"])
        let eventTime = core.string(at: ["eventTime"])
        let controllerField = strict ? "reportingController" : "reportingComponent"
        if eventTime.isEmpty {
            if involvedNamespace.isEmpty {
                if !namespace.isEmpty && namespace != "default" {
                    errors.append(.invalid("involvedObject.namespace", goQuote(involvedNamespace), "does not match event.namespace"))
                }
            } else if namespace != involvedNamespace {
                errors.append(.invalid("involvedObject.namespace", goQuote(involvedNamespace), "does not match event.namespace"))
            }
        } else {
            if involvedNamespace.isEmpty && namespace != "default" && namespace != "kube-system" {
                errors.append(.invalid("involvedObject.namespace", goQuote(involvedNamespace), "does not match event.namespace"))
            }
            let controller = core.string(at: ["reportingComponent"])
            if controller.isEmpty { errors.append(.required(controllerField)) }
            errors += KubernetesNames.qualifiedName(controller).map { .invalid(controllerField, goQuote(controller), $0) }
            let instance = core.string(at: ["reportingInstance"])
            if instance.isEmpty { errors.append(.required("reportingInstance")) }
            if instance.count > 128 { errors.append(.invalid("reportingInstance", "\"\"", "can have at most 128 characters")) }
            let action = core.string(at: ["action"])
            if action.isEmpty { errors.append(.required("action")) }
            if action.count > 128 { errors.append(.invalid("action", "\"\"", "can have at most 128 characters")) }
            let reason = core.string(at: ["reason"])
            if reason.isEmpty { errors.append(.required("reason")) }
            if reason.count > 128 { errors.append(.invalid("reason", "\"\"", "can have at most 128 characters")) }
            if core.string(at: ["message"]).count > 1024 {
                errors.append(.invalid("message", "\"\"", "can have at most 1024 characters"))
            }
        }
        errors += KubernetesNames.dns1123Subdomain(namespace).map { .invalid("namespace", goQuote(namespace), $0) }
        guard strict else { return errors }
        if let series = core["series"], series != .null {
            if (series["count"]?.intValue ?? 0) < 2 { errors.append(.invalid("series.count", "\"\"", "should be at least 2")) }
            if (series["lastObservedTime"]?.stringValue ?? "").isEmpty { errors.append(.required("series.lastObservedTime")) }
        }
        if eventTime.isEmpty { errors.append(.required("eventTime")) }
        let type = core.string(at: ["type"])
        if type != "Normal" && type != "Warning" { errors.append(.invalid("type", "\"\"", "has invalid value: \(type)")) }
        if !core.string(at: ["firstTimestamp"]).isEmpty { errors.append(.invalid("firstTimestamp", "\"\"", "needs to be unset")) }
        if !core.string(at: ["lastTimestamp"]).isEmpty { errors.append(.invalid("lastTimestamp", "\"\"", "needs to be unset")) }
        if (core["count"]?.intValue ?? 0) != 0 { errors.append(.invalid("count", "\"\"", "needs to be unset")) }
        if !core.string(at: ["source", "component"]).isEmpty || !core.string(at: ["source", "host"]).isEmpty {
            errors.append(.invalid("source", "\"\"", "needs to be unset"))
        }
        return errors
    }

    /// `ValidateEventUpdate` for events.k8s.io/v1 (both in core form): what an Event says may
    /// not change, only its series (re-validated when it changes) and metadata.
    static func validateEventUpdate(_ new: JSONValue, old: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        if new["series"] != old["series"], let series = new["series"], series != .null {
            if (series["count"]?.intValue ?? 0) < 2 { errors.append(.invalid("series.count", "\"\"", "should be at least 2")) }
            if (series["lastObservedTime"]?.stringValue ?? "").isEmpty { errors.append(.required("series.lastObservedTime")) }
        }
        let immutable = ["involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count",
                         "type", "eventTime", "action", "related", "reportingComponent", "reportingInstance"]
        let shown = ["reportingComponent": "reportingController"]
        for field in immutable where (new[field] ?? .null) != (old[field] ?? .null) {
            let value = new[field] ?? .null
            let rendered: String
            switch value {
            case .string(let text): rendered = goQuote(text)
            case .number(let number): rendered = String(Int(number))
            case .null: rendered = "null"
            default: rendered = value.serialized
            }
            errors.append(.invalid(shown[field] ?? field, rendered, "field is immutable"))
        }
        return errors
    }
}
