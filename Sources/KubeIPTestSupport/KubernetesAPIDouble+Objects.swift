import KubeIPHTTP
import KubeIPHTTPServer
import KubeIPSimulator
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension KubernetesAPIDouble {
    /// The patch content types the apiserver takes (server-side apply is refused here).
    static let patchTypes = ["application/json-patch+json", "application/merge-patch+json",
                             "application/strategic-merge-patch+json"]

    func serveResource(_ request: HTTPServerRequest, info: KubernetesRequestInfo,
                       user: KubernetesUser) throws(KubernetesStatusError) -> HTTPServerResponse {
        guard let type = KubernetesResourceType.find(group: info.group, version: info.version, resource: info.resource),
              !info.extra else { throw .pathNotFound }
        if !info.subresource.isEmpty && !type.subresources.contains(info.subresource) { throw .pathNotFound }
        if !type.namespaced && !info.namespace.isEmpty { throw .pathNotFound }
        if type.namespaced && info.namespace.isEmpty && !info.name.isEmpty { throw .pathNotFound }
        let dryRun = request.queryItems.contains { $0.name == "dryRun" && $0.value == "All" }
        fieldValidation = request.query("fieldValidation") ?? "Warn"
        guard ["Strict", "Warn", "Ignore"].contains(fieldValidation) || !["create", "update", "patch"].contains(info.verb) else {
            throw .badRequest("fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got \(goQuote(fieldValidation))")
        }
        // kubectl asks for server-side printing; other clients for the objects.
        let wantsTable = (request.header("Accept") ?? "").contains("as=Table")
        switch info.verb {
        case "get":
            let object = try existing(type, info.namespace, info.name)
            if wantsTable {
                return respond(table([object], type, metadata: ["resourceVersion": object[path: ["metadata", "resourceVersion"]] ?? ""],
                                     request: request))
            }
            return respond(external(object, type))
        case "list":
            if wantsTable {
                let (objects, metadata) = try select(type, namespace: info.namespace, request: request)
                return respond(table(objects, type, metadata: metadata, request: request))
            }
            return respond(try list(type, namespace: info.namespace, request: request))
        case "watch":
            throw KubernetesStatusError(code: 405, reason: "MethodNotAllowed",
                                        message: "watch is not supported by the kubeip Kubernetes API double",
                                        details: KubernetesStatusError.details(type.groupResource, name: info.name))
        case "create":
            guard info.subresource.isEmpty, info.name.isEmpty else { throw .methodNotSupported(type.groupResource, "create") }
            let body = try parseBody(request)
            let (object, status) = try create(type, namespace: info.namespace, body: body, dryRun: dryRun)
            return respond(external(object, type), status: status)
        case "update":
            let body = try parseBody(request)
            // A PUT that creates needs `create` as well (the update handler's withAuthorization).
            if type.allowCreateOnUpdate, info.subresource.isEmpty, let rbac = configuration.rbac,
               store[type.storageKey]?[key(info.namespace, info.name)] == nil {
                var create = info.attributes(user: user.name)
                create.verb = "create"
                if !rbac.allows(user, create) {
                    throw .forbidden(type.groupResource, info.name, create.forbiddenMessage)
                }
            }
            let (object, status) = try update(type, namespace: info.namespace, name: info.name, subresource: info.subresource,
                                              body: body, dryRun: dryRun)
            return respond(external(object, type), status: status)
        case "patch":
            let object = try patch(type, namespace: info.namespace, name: info.name, subresource: info.subresource,
                                   contentType: request.header("Content-Type") ?? "", body: request.body, dryRun: dryRun)
            return respond(external(object, type))
        case "delete":
            guard info.subresource.isEmpty else { throw .methodNotSupported(type.groupResource, "delete") }
            return respond(try delete(type, namespace: info.namespace, name: info.name, body: request.body, dryRun: dryRun))
        case "deletecollection":
            let selected = try list(type, namespace: info.namespace, request: request)["items"]?.arrayValue ?? []
            for item in selected {
                _ = try? delete(type, namespace: item.string(at: ["metadata", "namespace"]),
                                name: item.string(at: ["metadata", "name"]), body: [], dryRun: dryRun)
            }
            return respond(["kind": .string("\(type.kind)List"), "apiVersion": .string(type.apiVersion),
                            "metadata": ["resourceVersion": .string(currentResourceVersion)], "items": .array(selected)])
        default:
            throw .methodNotSupported(type.groupResource, info.verb)
        }
    }

    // MARK: Reading

    func key(_ namespace: String, _ name: String) -> String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

    func existing(_ type: KubernetesResourceType, _ namespace: String, _ name: String) throws(KubernetesStatusError) -> JSONValue {
        guard let object = store[type.storageKey]?[key(namespace, name)] else { throw .notFound(type.groupResource, name) }
        return object
    }

    /// The stored object in the representation of `type` (events.k8s.io/v1 for its events).
    func external(_ object: JSONValue, _ type: KubernetesResourceType) -> JSONValue {
        type == .events ? KubernetesEventConversion.toEventsV1(object) : object
    }

    private func table(_ objects: [JSONValue], _ type: KubernetesResourceType, metadata: JSONValue,
                       request: HTTPServerRequest) -> JSONValue {
        KubernetesTable.table(objects, type: type, now: clock.now, metadata: metadata,
                              includeObject: request.query("includeObject") ?? "Metadata",
                              external: { self.external($0, type) })
    }

    private func list(_ type: KubernetesResourceType, namespace: String, request: HTTPServerRequest) throws(KubernetesStatusError) -> JSONValue {
        let (objects, metadata) = try select(type, namespace: namespace, request: request)
        let rendered: [JSONValue] = objects.map { object in
            var item = external(object, type).objectValue ?? [:]
            // Items of a typed list carry no kind or apiVersion.
            item["kind"] = nil
            item["apiVersion"] = nil
            return .object(item)
        }
        return ["kind": .string("\(type.kind)List"), "apiVersion": .string(type.apiVersion),
                "metadata": metadata, "items": .array(rendered)]
    }

    /// The stored objects a list selects (selectors, namespace, `limit`/`continue`) and the list's metadata.
    private func select(_ type: KubernetesResourceType, namespace: String,
                        request: HTTPServerRequest) throws(KubernetesStatusError) -> ([JSONValue], JSONValue) {
        let labels = try LabelSelector(request.query("labelSelector") ?? "")
        let fields = try FieldSelector(request.query("fieldSelector") ?? "", type: type)
        var items = (store[type.storageKey] ?? [:]).sorted { $0.key < $1.key }.filter { entry in
            (namespace.isEmpty || entry.value.string(at: ["metadata", "namespace"]) == namespace)
                && labels.matches(entry.value[path: ["metadata", "labels"]]?.stringMap ?? [:])
                && fields.matches(entry.value)
        }
        var metadata: [String: JSONValue] = ["resourceVersion": .string(currentResourceVersion)]
        if let token = request.query("continue"), !token.isEmpty {
            guard let data = Data(base64Encoded: token), let after = String(validating: Array(data), as: UTF8.self) else {
                throw .badRequest("continue key is not valid: illegal base64 data")
            }
            items = items.filter { $0.key > after }
        }
        if let limitText = request.query("limit"), let limit = Int(limitText), limit > 0, items.count > limit {
            let remaining = items.count - limit
            items = Array(items.prefix(limit))
            metadata["continue"] = .string(Data(items.last!.key.utf8).base64EncodedString())
            metadata["remainingItemCount"] = .number(Double(remaining))
        }
        return (items.map(\.value), .object(metadata))
    }

    // MARK: Writing

    /// A create or update body: JSON, or YAML (`application/yaml`), as the apiserver reads them.
    func parseBody(_ request: HTTPServerRequest) throws(KubernetesStatusError) -> JSONValue {
        let mediaType = (request.header("Content-Type") ?? "").split(separator: ";").first
            .map { String($0).trimmingSpacesAround.lowercased() } ?? ""
        switch mediaType {
        case "", "application/json", "*/*":
            return try parseBody(request.body)
        case "application/yaml":
            do {
                return try YAMLTree.document(String(decoding: request.body, as: UTF8.self), path: "body")
            } catch {
                throw .badRequest("error converting YAML to JSON: \(error)")
            }
        default:
            throw .unsupportedMediaType(mediaType, accepted: ["application/json", "application/yaml"])
        }
    }

    func parseBody(_ bytes: [UInt8]) throws(KubernetesStatusError) -> JSONValue {
        do {
            return try JSONValue(parsing: bytes)
        } catch {
            throw .badRequest("couldn't get version/kind; json parse error: \(error.reason)")
        }
    }

    /// Checks the object's declared apiVersion and kind against the endpoint, and that it decodes.
    private func decode(_ body: JSONValue, as type: KubernetesResourceType) throws(KubernetesStatusError) -> JSONValue {
        guard var members = body.objectValue else {
            throw .badRequest("couldn't get version/kind; json parse error: json: cannot unmarshal into Go value of type struct")
        }
        if let apiVersion = members["apiVersion"]?.stringValue, !apiVersion.isEmpty, apiVersion != type.apiVersion {
            throw .badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(type.apiVersion))")
        }
        if let kind = members["kind"]?.stringValue, !kind.isEmpty, kind != type.kind {
            throw .badRequest("\(kind) in version \(goQuote(type.version)) cannot be handled as a \(type.kind): "
                              + "no kind \(goQuote(kind)) is registered for version \(goQuote(type.apiVersion))")
        }
        members["apiVersion"] = .string(type.apiVersion)
        members["kind"] = .string(type.kind)
        let object = try KubernetesValidation.decoded(try checkFields(.object(members), as: type), as: type)
        // Fields the server owns or does not keep.
        var cleaned = object
        cleaned.set(["metadata", "selfLink"], nil)
        cleaned.set(["metadata", "managedFields"], nil)
        return cleaned
    }

    /// The request's `fieldValidation` applied to unknown fields: Strict refuses, Warn (the
    /// default) drops with a warning, Ignore drops.
    private func checkFields(_ object: JSONValue, as type: KubernetesResourceType) throws(KubernetesStatusError) -> JSONValue {
        let (unknown, cleaned) = KubernetesFieldSets.unknownFields(object, type: type)
        guard !unknown.isEmpty else { return object }
        switch fieldValidation {
        case "Strict":
            let list = unknown.map { "unknown field \(goQuote($0))" }.joined(separator: ", ")
            throw .badRequest("\(type.kind) in version \(goQuote(type.version)) cannot be handled as a \(type.kind): strict decoding error: \(list)")
        case "Ignore":
            break
        default:
            warnings += unknown.map { "unknown field \(goQuote($0))" }
        }
        return cleaned
    }

    private func validate(_ object: JSONValue, as type: KubernetesResourceType) throws(KubernetesStatusError) {
        let errors = KubernetesValidation.validate(object, as: type)
        guard errors.isEmpty else {
            throw .invalid(kind: type.kind, group: type.group, name: object.string(at: ["metadata", "name"]), errors)
        }
    }

    func create(_ type: KubernetesResourceType, namespace: String, body: JSONValue,
                dryRun: Bool) throws(KubernetesStatusError) -> (JSONValue, Int) {
        var object = try decode(body, as: type)
        let declared = object.string(at: ["metadata", "namespace"])
        if type.namespaced {
            if !declared.isEmpty && declared != namespace {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            object.set(["metadata", "namespace"], .string(namespace))
        } else {
            object.set(["metadata", "namespace"], nil)
        }
        // The NamespaceLifecycle admission plugin.
        if type.namespaced && store[KubernetesResourceType.namespaces.storageKey]?[namespace] == nil {
            if configuration.createsNamespacesOnDemand { createNamespace(namespace) } else {
                throw .notFound(KubernetesResourceType.namespaces.groupResource, namespace)
            }
        }
        if object.string(at: ["metadata", "name"]).isEmpty, case let prefix = object.string(at: ["metadata", "generateName"]),
           !prefix.isEmpty {
            object.set(["metadata", "name"], .string(prefix + generatedSuffix()))
        }
        // The storage layer refuses a version on create with a plain error
        // (storage.ErrResourceVersionSetOnCreate), which the handler answers as a 500 of unknown reason.
        if !object.string(at: ["metadata", "resourceVersion"]).isEmpty {
            throw KubernetesStatusError(code: 500, reason: "", message: "resourceVersion should not be set on objects to be created")
        }
        var stored = type == .events ? KubernetesEventConversion.toCore(object) : object
        // PrepareForCreate: what the server sets.
        for field in ["deletionTimestamp", "deletionGracePeriodSeconds", "generation", "uid", "resourceVersion"] {
            stored.set(["metadata", field], nil)
        }
        try validate(object, as: type)
        let name = stored.string(at: ["metadata", "name"])
        if store[type.storageKey]?[key(namespace, name)] != nil { throw .alreadyExists(type.groupResource, name) }
        stored.set(["metadata", "uid"], .string(newUID()))
        stored.set(["metadata", "creationTimestamp"], .string(KubernetesTime.formatTime(clock.now)))
        if dryRun {
            stored.set(["metadata", "resourceVersion"], nil)
            return (stored, 201)
        }
        stored.set(["metadata", "resourceVersion"], .string(nextResourceVersion()))
        store[type.storageKey, default: [:]][key(namespace, name)] = stored
        return (stored, 201)
    }

    /// Five characters from the apiserver's `SimpleNameGenerator` alphabet.
    private func generatedSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        serial += 1
        var value = serial &* 0x2545_F491_4F6C_DD1D
        return String((0..<5).map { _ in
            defer { value /= UInt64(alphabet.count) }
            return alphabet[Int(value % UInt64(alphabet.count))]
        })
    }

    private func checkName(_ object: JSONValue, namespace: String, name: String,
                           type: KubernetesResourceType) throws(KubernetesStatusError) {
        let objectName = object.string(at: ["metadata", "name"])
        if objectName != name {
            throw .badRequest("the name of the object (\(objectName)) does not match the name on the URL (\(name))")
        }
        let objectNamespace = object.string(at: ["metadata", "namespace"])
        if type.namespaced && !objectNamespace.isEmpty && objectNamespace != namespace {
            throw .badRequest("the namespace of the object (\(objectNamespace)) does not match the namespace on the request (\(namespace))")
        }
    }

    func update(_ type: KubernetesResourceType, namespace: String, name: String, subresource: String,
                body: JSONValue, dryRun: Bool) throws(KubernetesStatusError) -> (JSONValue, Int) {
        let object = try decode(body, as: type)
        try checkName(object, namespace: namespace, name: name, type: type)
        guard let old = store[type.storageKey]?[key(namespace, name)] else {
            guard type.allowCreateOnUpdate, subresource.isEmpty else { throw .notFound(type.groupResource, name) }
            // Store.Update's create path compares no version; storage clears it before writing.
            var fresh = object
            fresh.set(["metadata", "resourceVersion"], nil)
            return try create(type, namespace: namespace, body: fresh, dryRun: dryRun)
        }
        let stored = try commit(type, old: old, new: type == .events ? KubernetesEventConversion.toCore(object) : object,
                                subresource: subresource, dryRun: dryRun)
        return (stored, 200)
    }

    /// The shared end of update and patch: resourceVersion precondition, the strategy's
    /// field resets, validation, a no-op check, finalization of a deleted object, storage.
    private func commit(_ type: KubernetesResourceType, old: JSONValue, new: JSONValue, subresource: String,
                        dryRun: Bool) throws(KubernetesStatusError) -> JSONValue {
        let name = old.string(at: ["metadata", "name"])
        let namespace = old.string(at: ["metadata", "namespace"])
        var next = new
        let oldVersion = old.string(at: ["metadata", "resourceVersion"])
        let given = next.string(at: ["metadata", "resourceVersion"])
        if !given.isEmpty && given != oldVersion { throw .staleResourceVersion(type.groupResource, name) }
        // The uid may be left out; it may not be changed (ValidateObjectMetaUpdate).
        let oldUID = old.string(at: ["metadata", "uid"])
        let givenUID = next.string(at: ["metadata", "uid"])
        if !givenUID.isEmpty && givenUID != oldUID {
            throw .invalid(kind: type.kind, group: type.group, name: name,
                           [.invalid("metadata.uid", goQuote(givenUID), "field is immutable")])
        }
        // BeforeUpdate: system fields come from the stored object.
        for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"] {
            next.set(["metadata", field], old[path: ["metadata", field]])
        }
        if type.namespaced { next.set(["metadata", "namespace"], .string(namespace)) }
        // nodeStatusStrategy keeps the stored spec (metadata still changes, as in the real
        // registry); nodeStrategy keeps the stored status.
        if type.subresources.contains("status") {
            next.set([subresource == "status" ? "spec" : "status"], old[subresource == "status" ? "spec" : "status"])
        }
        try validate(type == .events ? KubernetesEventConversion.toEventsV1(next) : next, as: type)
        if type == .events {
            let errors = KubernetesValidation.validateEventUpdate(next, old: old)
            if !errors.isEmpty { throw .invalid(kind: type.kind, group: type.group, name: name, errors) }
        }
        var comparable = next
        comparable.set(["metadata", "resourceVersion"], .string(oldVersion))
        if comparable == old { return old }
        let finalizers = next[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if dryRun {
            next.set(["metadata", "resourceVersion"], .string(oldVersion))
            return next
        }
        next.set(["metadata", "resourceVersion"], .string(nextResourceVersion()))
        if old[path: ["metadata", "deletionTimestamp"]] != nil && finalizers.isEmpty {
            // The last finalizer is gone: the object goes.
            store[type.storageKey]?[key(namespace, name)] = nil
            return next
        }
        store[type.storageKey]?[key(namespace, name)] = next
        return next
    }

    func patch(_ type: KubernetesResourceType, namespace: String, name: String, subresource: String,
               contentType: String, body: [UInt8], dryRun: Bool) throws(KubernetesStatusError) -> JSONValue {
        let mediaType = contentType.split(separator: ";").first.map { String($0).trimmingSpacesAround.lowercased() } ?? ""
        guard Self.patchTypes.contains(mediaType) else {
            throw .unsupportedMediaType(mediaType, accepted: Self.patchTypes)
        }
        let old = try existing(type, namespace, name)
        let patchDocument: JSONValue
        do {
            patchDocument = try JSONValue(parsing: body)
        } catch {
            throw .badRequest(mediaType == Self.patchTypes[0] ? "invalid character in JSON patch: \(error.reason)"
                              : "error decoding patch: \(error.reason)")
        }
        let current = external(old, type)
        var patched: JSONValue
        do {
            switch mediaType {
            case Self.patchTypes[0]: patched = try KubernetesPatch.applyJSONPatch(patchDocument, to: current)
            case Self.patchTypes[1]: patched = KubernetesPatch.applyMergePatch(patchDocument, to: current)
            default: patched = try KubernetesPatch.applyStrategicMergePatch(patchDocument, to: current, type: type)
            }
        } catch {
            if error.isMalformed { throw .badRequest(error.message) }
            throw .unprocessablePatch(error.message)
        }
        let object = try decode(patched, as: type)
        try checkName(object, namespace: namespace, name: name, type: type)
        return try commit(type, old: old, new: type == .events ? KubernetesEventConversion.toCore(object) : object,
                          subresource: subresource, dryRun: dryRun)
    }

    func delete(_ type: KubernetesResourceType, namespace: String, name: String, body: [UInt8],
                dryRun: Bool) throws(KubernetesStatusError) -> JSONValue {
        let old = try existing(type, namespace, name)
        var options: JSONValue = [:]
        if !body.isEmpty {
            options = try parseBody(body)
            if let kind = options["kind"]?.stringValue, !kind.isEmpty, kind != "DeleteOptions" {
                throw .badRequest("\(kind) in version \"v1\" cannot be handled as a DeleteOptions: no kind \(goQuote(kind)) is registered")
            }
        }
        // storage.Preconditions.Check: uid first, then resourceVersion.
        let uid = old.string(at: ["metadata", "uid"])
        if let wanted = options[path: ["preconditions", "uid"]]?.stringValue, wanted != uid {
            throw .conflict(type.groupResource, name, "Precondition failed: UID in precondition: \(wanted), UID in object meta: \(uid)")
        }
        let version = old.string(at: ["metadata", "resourceVersion"])
        if let wanted = options[path: ["preconditions", "resourceVersion"]]?.stringValue, wanted != version {
            throw .conflict(type.groupResource, name,
                            "Precondition failed: ResourceVersion in precondition: \(wanted), ResourceVersion in object meta: \(version)")
        }
        let finalizers = old[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if !finalizers.isEmpty {
            // Graceful: the object stays, marked, until its finalizers are removed.
            if old[path: ["metadata", "deletionTimestamp"]] != nil || dryRun { return external(old, type) }
            var marked = old
            marked.set(["metadata", "deletionTimestamp"], .string(KubernetesTime.formatTime(clock.now)))
            marked.set(["metadata", "deletionGracePeriodSeconds"], 0)
            marked.set(["metadata", "resourceVersion"], .string(nextResourceVersion()))
            store[type.storageKey]?[key(namespace, name)] = marked
            return external(marked, type)
        }
        if !dryRun {
            store[type.storageKey]?[key(namespace, name)] = nil
            _ = nextResourceVersion()
        }
        var details: [String: JSONValue] = ["name": .string(name), "kind": .string(type.resource), "uid": .string(uid)]
        if !type.group.isEmpty { details["group"] = .string(type.group) }
        return ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "details": .object(details)]
    }
}
