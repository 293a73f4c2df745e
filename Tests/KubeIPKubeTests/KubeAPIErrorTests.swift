import Foundation
import KubeIPCore
import Testing
@testable import KubeIPKube

@Suite struct KubeAPIErrorTests {
    @Test(arguments: [
        ("AlreadyExists", KubeAPIError.Reason.alreadyExists, 409, KubeIPError.Code.conflict),
        ("Conflict", .conflict, 409, .conflict),
        ("NotFound", .notFound, 404, .notFound),
        ("Unauthorized", .unauthorized, 401, .authentication),
        ("Forbidden", .forbidden, 403, .permissionDenied),
        ("Invalid", .invalid, 422, .cloudAPI),
        ("TooManyRequests", .tooManyRequests, 429, .throttled),
        ("Gone", .gone, 410, .cloudAPI),
        ("Timeout", .timeout, 504, .unavailable),
        ("ServerTimeout", .serverTimeout, 500, .unavailable),
        ("InternalError", .internalError, 500, .unavailable),
        ("BadRequest", .badRequest, 400, .cloudAPI),
        ("MethodNotAllowed", .methodNotAllowed, 405, .cloudAPI),
        ("UnsupportedMediaType", .unsupportedMediaType, 415, .cloudAPI),
        ("NotAcceptable", .notAcceptable, 406, .cloudAPI),
        ("RequestEntityTooLarge", .requestEntityTooLarge, 413, .cloudAPI),
        ("Expired", .expired, 410, .cloudAPI),
        ("ServiceUnavailable", .serviceUnavailable, 503, .unavailable),
        ("SomethingNew", .unknown("SomethingNew"), 418, .cloudAPI),
    ])
    func everyReasonMapsFromTheWireAndToTheCore(wire: String, reason: KubeAPIError.Reason, status: Int,
                                                code: KubeIPError.Code) {
        #expect(KubeAPIError.Reason(wire) == reason)
        #expect(reason.description == wire)
        let error = KubeAPIError(reason: reason, status: status, verb: "get", resource: "nodes/ip-10-0-0-1", message: "said")
        #expect(error.kubeIPError.code == code)
        #expect(error.kubeIPError.resource == "get nodes/ip-10-0-0-1")
    }

    @Test(arguments: [(400, KubeAPIError.Reason.badRequest), (401, .unauthorized), (403, .forbidden), (404, .notFound),
                      (405, .methodNotAllowed), (406, .notAcceptable), (409, .conflict), (410, .gone),
                      (413, .requestEntityTooLarge), (415, .unsupportedMediaType), (422, .invalid), (429, .tooManyRequests),
                      (500, .internalError), (503, .serviceUnavailable), (504, .timeout), (502, .unknown("HTTP 502"))])
    func reasonsFromBareStatusCodes(status: Int, reason: KubeAPIError.Reason) {
        #expect(KubeAPIError.Reason(httpStatus: status) == reason)
    }

    @Test func messagesNameTheCall() {
        let error = KubeAPIError(reason: .conflict, status: 409, verb: "create", resource: "leases/kube-system/kubeip-eipalloc-123",
                                 apiGroup: "coordination.k8s.io", message: "already held")
        #expect(error.description == "the Kubernetes API answered 409 Conflict for create leases/kube-system/kubeip-eipalloc-123: already held")
        let forbidden = KubeAPIError(reason: .forbidden, status: 403, verb: "delete", resource: "leases/kube-system/x",
                                     apiGroup: "coordination.k8s.io", message: "")
        #expect(forbidden.kubeIPError.message == "the Kubernetes API forbids delete leases/kube-system/x (403 Forbidden); kubeip's RBAC role must grant 'delete' on 'leases' in API group coordination.k8s.io")
        #expect(forbidden.kubeIPError.exitCode == 77)
    }

    @Test func statusBodiesDecode() throws {
        let body = #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Lease.coordination.k8s.io \"x\" is invalid: spec.leaseDurationSeconds: Invalid value: -1","reason":"Invalid","details":{"name":"x","group":"coordination.k8s.io","kind":"Lease","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: -1","field":"spec.leaseDurationSeconds"}]},"code":422}"#
        let status = try JSONDecoder().decode(KubeStatus.self, from: Data(body.utf8))
        #expect(status.reason == "Invalid")
        #expect(status.details?.causes?.first?.field == "spec.leaseDurationSeconds")
        #expect(status.code == 422)
    }
}
