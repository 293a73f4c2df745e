"""The Kubernetes API double (`kube-api-double`) driven by real clients: kubectl 1.32 and the
official `kubernetes` Python client. What they send, the double must take as the apiserver
takes it, and what the apiserver refuses, it must refuse with the same answer."""

from __future__ import annotations

import datetime
import json
import shutil

import pytest

from kube_double import ADMIN_TOKEN, KUBEIP_TOKEN, KUBEIP_USER, KUBECTL, KubeCluster

# kubectl is part of the test environment (installed at /usr/bin/kubectl); the Python-client
# tests run without it.
needs_kubectl = pytest.mark.skipif(not shutil.which(KUBECTL), reason=f"kubectl not installed at {KUBECTL}")

LEASE = """\
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: ip-203-0-113-7
  namespace: kube-system
  labels: {kubeip.com/address: 203.0.113.7}
spec:
  holderIdentity: node-1
  leaseDurationSeconds: 15
"""


@needs_kubectl
def test_kubectl_get_nodes(kube_cluster: KubeCluster) -> None:
    kubectl = kube_cluster.kubectl()
    listing = kubectl("get", "nodes").stdout
    # Server-side printing: the apiserver's node columns.
    assert listing.splitlines()[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert {tuple(line.split()[:3]) for line in listing.splitlines()[1:]} == {("node-1", "Ready", "<none>"),
                                                                              ("node-2", "Ready", "<none>")}
    node = json.loads(kubectl("get", "node", "node-1", "-o", "json").stdout)
    assert node["kind"] == "Node"
    assert node["spec"]["providerID"] == "aws:///us-east-1a/i-0a1"
    assert node["spec"]["taints"] == [{"key": "kubeip.com/not-ready", "effect": "NoSchedule"}]
    assert int(node["metadata"]["resourceVersion"]) > 0
    assert kubectl("get", "nodes", "-l", "kubeip.com/pool=a", "-o", "name").stdout.split() == ["node/node-2"]
    missing = kubectl("get", "node", "nope", check=False)
    assert missing.returncode == 1
    assert 'Error from server (NotFound): nodes "nope" not found' in missing.stderr


@needs_kubectl
def test_kubectl_patch_node_json_merge_strategic(kube_cluster: KubeCluster) -> None:
    kubectl = kube_cluster.kubectl()
    json_patch = [{"op": "test", "path": "/spec/taints/0/key", "value": "kubeip.com/not-ready"},
                  {"op": "remove", "path": "/spec/taints/0"}]
    assert "patched" in kubectl("patch", "node", "node-1", "--type", "json", "-p", json.dumps(json_patch)).stdout
    failed = kubectl("patch", "node", "node-1", "--type", "json", "-p",
                     json.dumps([{"op": "test", "path": "/spec/providerID", "value": "gce://other"}]), check=False)
    assert failed.returncode == 1
    assert "testing value /spec/providerID failed: test failed" in failed.stderr
    kubectl("patch", "node", "node-1", "--type", "merge", "-p", json.dumps({"metadata": {"labels": {"a": "b"}}}))
    kubectl("patch", "node", "node-1", "--type", "strategic", "-p",
            json.dumps({"spec": {"taints": [{"key": "k", "value": "v", "effect": "NoExecute"}]}}))
    # Status through the subresource, merged by address type (NodeStatus.addresses' patchMergeKey).
    kubectl("patch", "node", "node-1", "--subresource", "status", "--type", "strategic", "-p",
            json.dumps({"status": {"addresses": [{"type": "ExternalIP", "address": "203.0.113.7"}]}}))
    node = json.loads(kubectl("get", "node", "node-1", "-o", "json").stdout)
    assert node["metadata"]["labels"]["a"] == "b"
    assert node["spec"]["taints"] == [{"key": "k", "value": "v", "effect": "NoExecute"}]
    assert [a["type"] for a in node["status"]["addresses"]] == ["InternalIP", "Hostname", "ExternalIP"]
    invalid = kubectl("patch", "node", "node-1", "--type", "merge", "-p",
                      json.dumps({"spec": {"taints": [{"key": "k", "effect": "Sometimes"}]}}), check=False)
    assert invalid.returncode == 1
    assert 'Unsupported value: "Sometimes"' in invalid.stderr


@needs_kubectl
def test_kubectl_lease_create_apply_delete(kube_cluster: KubeCluster) -> None:
    kubectl = kube_cluster.kubectl()
    assert kubectl("get", "leases", "-n", "kube-system", check=False).stderr.strip() == \
        "No resources found in kube-system namespace."
    assert "lease.coordination.k8s.io/ip-203-0-113-7 created" in kubectl("create", "-f", "-", stdin=LEASE).stdout
    again = kubectl("create", "-f", "-", stdin=LEASE, check=False)
    assert again.returncode == 1
    assert 'Error from server (AlreadyExists): error when creating "STDIN": ' \
           'leases.coordination.k8s.io "ip-203-0-113-7" already exists' in again.stderr
    listing = kubectl("get", "leases", "-n", "kube-system").stdout
    assert "ip-203-0-113-7" in listing
    assert "deleted" in kubectl("delete", "lease", "-n", "kube-system", "ip-203-0-113-7").stdout
    gone = kubectl("get", "lease", "-n", "kube-system", "ip-203-0-113-7", check=False)
    assert 'leases.coordination.k8s.io "ip-203-0-113-7" not found' in gone.stderr

    # apply: create, then update (a three-way strategic merge patch), then nothing to do.
    assert "created" in kubectl("apply", "-f", "-", stdin=LEASE).stdout
    changed = LEASE.replace("holderIdentity: node-1", "holderIdentity: node-2")
    assert "configured" in kubectl("apply", "-f", "-", stdin=changed).stdout
    assert "unchanged" in kubectl("apply", "-f", "-", stdin=changed).stdout
    lease = json.loads(kubectl("get", "lease", "-n", "kube-system", "ip-203-0-113-7", "-o", "json").stdout)
    assert lease["spec"]["holderIdentity"] == "node-2"
    assert "kubectl.kubernetes.io/last-applied-configuration" in lease["metadata"]["annotations"]
    verbs = [(r["verb"], r["resource"], r["status"]) for r in kube_cluster.double.requests() if r["resourceRequest"]]
    assert ("create", "leases", 201) in verbs and ("patch", "leases", 200) in verbs and ("delete", "leases", 200) in verbs

    # kubectl's default --validate=strict leaves validation to the server (fieldValidation=Strict).
    typo = kubectl("create", "-f", "-", stdin=LEASE.replace("ip-203-0-113-7", "typo").replace("holderIdentity", "holderIdentty"),
                   check=False)
    assert typo.returncode == 1
    assert 'strict decoding error: unknown field "spec.holderIdentty"' in typo.stderr
    invalid = kubectl("apply", "-f", "-", stdin=changed.replace("leaseDurationSeconds: 15", "leaseDurationSeconds: 0"),
                      check=False)
    assert invalid.returncode == 1
    assert "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0" in invalid.stderr


@needs_kubectl
def test_kubectl_unauthorized_and_forbidden(kube_cluster: KubeCluster) -> None:
    bad = kube_cluster.kubectl("not-a-token")("get", "nodes", check=False)
    assert bad.returncode == 1
    # kubectl 1.32's wording for a 401 in discovery (as against a real apiserver).
    assert "error: You must be logged in to the server (the server has asked for the client to provide credentials)" \
        in bad.stderr
    kubeip = kube_cluster.kubectl(KUBEIP_TOKEN)
    assert "node-1" in kubeip("get", "nodes").stdout
    assert kubeip("get", "leases", "-n", "kube-system", check=False).returncode == 0
    denied = kubeip("get", "leases", "-n", "default", check=False)
    assert denied.returncode == 1
    assert (f'Error from server (Forbidden): leases.coordination.k8s.io is forbidden: User "{KUBEIP_USER}" '
            'cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "default"') in denied.stderr
    delete = kubeip("delete", "node", "node-2", check=False)
    assert (f'nodes "node-2" is forbidden: User "{KUBEIP_USER}" cannot delete resource "nodes" '
            'in API group "" at the cluster scope') in delete.stderr
    perms = kube_cluster.double.admin("GET", f"permissions?user={KUBEIP_USER}")["permissions"]
    assert "list nodes" in perms and "delete nodes" in perms
    assert "list coordination.k8s.io/leases in default" in perms


def test_python_client_leases(kube_cluster: KubeCluster) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    api = client.CoordinationV1Api(kube_cluster.python_client(KUBEIP_TOKEN))
    now = datetime.datetime(2026, 12, 4, 10, 0, 0, 123456, tzinfo=datetime.timezone.utc)
    body = client.V1Lease(metadata=client.V1ObjectMeta(name="ip-198-51-100-1"),
                          spec=client.V1LeaseSpec(holder_identity="node-1", lease_duration_seconds=15,
                                                  acquire_time=now, renew_time=now))
    created = api.create_namespaced_lease("kube-system", body)
    assert created.metadata.uid and created.metadata.resource_version
    assert created.spec.renew_time == now

    read = api.read_namespaced_lease("ip-198-51-100-1", "kube-system")
    read.spec.renew_time = now + datetime.timedelta(seconds=5)
    replaced = api.replace_namespaced_lease("ip-198-51-100-1", "kube-system", read)
    assert replaced.metadata.resource_version != created.metadata.resource_version

    with pytest.raises(ApiException) as stale:
        api.replace_namespaced_lease("ip-198-51-100-1", "kube-system", read)   # the old resourceVersion
    assert stale.value.status == 409
    status = json.loads(stale.value.body)
    assert status["reason"] == "Conflict"
    assert status["message"] == ('Operation cannot be fulfilled on leases.coordination.k8s.io "ip-198-51-100-1": '
                                 "the object has been modified; please apply your changes to the latest version and try again")

    with pytest.raises(ApiException) as precondition:
        api.delete_namespaced_lease("ip-198-51-100-1", "kube-system", body=client.V1DeleteOptions(
            preconditions=client.V1Preconditions(resource_version=created.metadata.resource_version)))
    assert precondition.value.status == 409
    assert "Precondition failed: ResourceVersion in precondition" in json.loads(precondition.value.body)["message"]
    deleted = api.delete_namespaced_lease("ip-198-51-100-1", "kube-system", body=client.V1DeleteOptions(
        preconditions=client.V1Preconditions(uid=created.metadata.uid,
                                             resource_version=replaced.metadata.resource_version)))
    assert deleted.status == "Success"
    with pytest.raises(ApiException) as gone:
        api.read_namespaced_lease("ip-198-51-100-1", "kube-system")
    assert gone.value.status == 404

    with pytest.raises(ApiException) as forbidden:
        api.create_namespaced_lease("default", body)
    assert forbidden.value.status == 403


def test_python_client_nodes(kube_cluster: KubeCluster) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(kube_cluster.python_client(ADMIN_TOKEN))
    node = core.read_node("node-1")
    assert node.spec.provider_id == "aws:///us-east-1a/i-0a1"
    # A list body goes as application/json-patch+json: remove the startup taint only if it is the one expected.
    patched = core.patch_node("node-1", [{"op": "test", "path": "/spec/taints/0/key", "value": "kubeip.com/not-ready"},
                                         {"op": "remove", "path": "/spec/taints/0"}])
    assert not patched.spec.taints
    with pytest.raises(ApiException) as failed:
        core.patch_node("node-1", [{"op": "test", "path": "/spec/taints/0/key", "value": "kubeip.com/not-ready"},
                                   {"op": "remove", "path": "/spec/taints/0"}])
    assert failed.value.status == 422
    assert json.loads(failed.value.body)["reason"] == "Invalid"

    address = {"status": {"addresses": [{"type": "ExternalIP", "address": "203.0.113.9"}]}}
    # A dict body goes as a strategic merge patch (the client's rest layer switches a non-list
    # JSON patch to it): the addresses merge by type, as NodeStatus.addresses declares.
    updated = core.patch_node_status("node-1", address)
    assert [(a.type, a.address) for a in updated.status.addresses][-1] == ("ExternalIP", "203.0.113.9")
    assert len(updated.status.addresses) == 3
    merged = core.patch_node_status("node-1", {"status": {"addresses": [{"type": "ExternalIP", "address": "203.0.113.10"}]}},
                                    _content_type="application/merge-patch+json")
    assert [(a.type, a.address) for a in merged.status.addresses] == [("ExternalIP", "203.0.113.10")]
    # What the main resource is sent about status is dropped; /status never changes spec.
    unchanged = core.patch_node("node-1", {"status": {"addresses": []}, "spec": {"unschedulable": True}})
    assert unchanged.spec.unschedulable and len(unchanged.status.addresses) == 1

    assert [n.metadata.name for n in core.list_node(label_selector="kubeip.com/pool=a").items] == ["node-2"]
    assert [n.metadata.name for n in core.list_node(field_selector="metadata.name=node-1").items] == ["node-1"]


def test_python_client_events_microtime(kube_cluster: KubeCluster) -> None:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    events = client.EventsV1Api(kube_cluster.python_client(KUBEIP_TOKEN))

    def event(when: datetime.datetime) -> client.EventsV1Event:
        return client.EventsV1Event(
            metadata=client.V1ObjectMeta(generate_name="node-1."), event_time=when,
            reporting_controller="kubeip.com/kubeip", reporting_instance="kubeip-node-1",
            action="AssignAddress", reason="AddressAssigned", type="Normal", note="assigned 203.0.113.7",
            regarding=client.V1ObjectReference(kind="Node", name="node-1", api_version="v1"))

    # datetime.isoformat() writes six fraction digits and +00:00: a MicroTime the apiserver takes.
    with_micros = datetime.datetime(2026, 12, 4, 10, 0, 0, 250000, tzinfo=datetime.timezone.utc)
    created = events.create_namespaced_event("kube-system", event(with_micros))
    assert created.metadata.name.startswith("node-1.") and len(created.metadata.name) == len("node-1.") + 5
    assert created.event_time == with_micros
    # ...but with a zero microsecond it writes no fraction at all, which MicroTime's layout
    # refuses: the real apiserver answers 400, and so does the double.
    with pytest.raises(ApiException) as refused:
        events.create_namespaced_event("kube-system", event(with_micros.replace(microsecond=0)))
    assert refused.value.status == 400
    assert 'cannot parse "+00:00" as ".000000"' in json.loads(refused.value.body)["message"]

    recorded = kube_cluster.double.admin("GET", "events?namespace=kube-system")["items"]
    assert [e["note"] for e in recorded] == ["assigned 203.0.113.7"]
    assert recorded[0]["eventTime"] == "2026-12-04T10:00:00.250000Z"
    core_events = client.CoreV1Api(kube_cluster.python_client(ADMIN_TOKEN)).list_namespaced_event("kube-system")
    assert [e.message for e in core_events.items] == ["assigned 203.0.113.7"]


@needs_kubectl
def test_hooks_and_faults_with_kubectl(kube_cluster: KubeCluster) -> None:
    double = kube_cluster.double
    double.admin("POST", "nodes", {"name": "node-3", "providerID": "aws:///us-east-1c/i-0c3"})
    double.admin("PUT", "nodes/node-3/external-ip", {"ip": "192.0.2.10"})
    double.admin("POST", "faults", {"status": 429, "retryAfter": 2, "verb": "get", "resource": "nodes"})
    kubectl = kube_cluster.kubectl()
    # kubectl retries a 429 by itself, honouring Retry-After; the second answer is the node.
    node = json.loads(kubectl("get", "node", "node-3", "-o", "json").stdout)
    assert node["status"]["addresses"][-1] == {"type": "ExternalIP", "address": "192.0.2.10"}
    statuses = [r["status"] for r in double.requests() if r["resource"] == "nodes" and r["name"] == "node-3"]
    assert statuses == [429, 200]
