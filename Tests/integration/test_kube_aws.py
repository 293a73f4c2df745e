"""Kube mode on AWS, end to end: the real binary against moto and the Kubernetes API double
(see kube_nodes.py). Each test starts from a clean moto and a fresh double."""

from __future__ import annotations

import json
import signal
import time

from harness import POOL_FILTER
from kube_nodes import (ADMIN_TOKEN, KUBEIP_TOKEN, NAMESPACE, OTHER_TAINT, STARTUP_TAINT, KubeNodes,
                        shipped_permissions)


def test_assigns_then_removes_only_its_taint_once_the_node_reports_the_address(cloud, kube_nodes: KubeNodes) -> None:
    [inst] = cloud.fleet(1, pool=2)
    node = kube_nodes.add_node(inst, report=False)
    d = kube_nodes.daemon(node)
    # Attached, but the Node does not report it yet: the taint stays, and the daemon says why.
    kube_nodes.wait("the address on the instance", lambda: cloud.on_eni(inst.eni), daemon=d)
    d.wait_status(f"waiting for Node {node} to report")
    time.sleep(1.5)
    assert STARTUP_TAINT in kube_nodes.taint_keys(node)
    assert kube_nodes.probe(d, "/readyz") == 503 and kube_nodes.probe(d, "/healthz") == 200
    assert not d.ready
    # The cloud-controller-manager reports it: the taint goes, nothing else does.
    kube_nodes.ccm.paused.discard(node)
    ip = kube_nodes.wait_assigned(node, d)
    n = kube_nodes.node(node)
    assert [a["PublicIp"] for a in cloud.on_eni(inst.eni)] == [ip]
    assert kube_nodes.external_ips(node) == [ip]
    assert n["spec"]["taints"] == [OTHER_TAINT]
    assert n["metadata"]["labels"]["kubeip.com/status"] == "assigned"
    d.wait_ready()
    assert kube_nodes.probe(d, "/readyz") == 200
    kube_nodes.wait("the AddressAssigned event", lambda: "AddressAssigned" in kube_nodes.reasons(node), daemon=d)
    # The Lease existed only while the claim was in flight.
    assert kube_nodes.leases() == []
    # Identity came from the Node and EC2 (DescribeInstances), never from instance metadata.
    assert "DescribeInstances" in cloud.proxy.actions()
    assert d.terminate() == 0


def test_five_nodes_race_for_five_addresses_each_claim_inside_its_own_lease(cloud, kube_nodes: KubeNodes) -> None:
    instances = cloud.fleet(5, pool=5)
    nodes = [kube_nodes.add_node(i) for i in instances]
    daemons = [kube_nodes.daemon(n) for n in nodes]
    ips = [kube_nodes.wait_assigned(n, d, timeout=60) for n, d in zip(nodes, daemons)]
    assert len(set(ips)) == 5
    for inst, ip in zip(instances, ips):
        assert [a["PublicIp"] for a in cloud.on_eni(inst.eni)] == [ip]
    # Every AssociateAddress ran while that node held the address's Lease: created by it before,
    # deleted (settled) after, and no other holder in between. The proxy serves requests on
    # concurrent threads, so order is judged causally: a call's answer (`at`) comes before anything
    # the daemon sends because of it, and a request (`sent`) arrives before the double acts on it.
    lease_calls = [c for c in kube_nodes.proxy.calls if "/leases" in c.path]
    holders: dict[str, list[tuple[float, float, str]]] = {}
    # A holding starts with a successful create or take-over, and ends with a successful delete.
    for start in (c for c in lease_calls if (c.method, c.status) in (("POST", 201), ("PUT", 200))):
        body = json.loads(start.body)
        name, holder = body["metadata"]["name"], body["spec"]["holderIdentity"]
        if start.method == "PUT" and any(s[2] == holder for s in holders.get(name, [])):
            continue   # a renewal, not a new holding
        end = min((c.sent for c in lease_calls if c.method == "DELETE" and c.status == 200
                   and c.path.endswith("/" + name) and c.at > start.at), default=float("inf"))
        holders.setdefault(name, []).append((start.at, end, holder))
    for spans in holders.values():
        spans.sort()
        # A later holding's create must not have been answered before the earlier one's delete arrived.
        for (_, end, _), (start, _, _) in zip(spans, spans[1:]):
            assert end <= start, f"two live holders of one lease: {spans}"
    eni_node = {i.eni: n for i, n in zip(instances, nodes)}
    alloc = {a.allocation_id for a in cloud.pool}
    for call in cloud.proxy.calls:
        if call.action != "AssociateAddress":
            continue
        lease = f"kubeip-us-east-1-{call.params['AllocationId']}"
        node = eni_node[call.params["NetworkInterfaceId"]]
        assert call.params["AllocationId"] in alloc
        assert any(start < call.sent and call.at < end and holder.startswith(node + "_")
                   for start, end, holder in holders.get(lease, [])), \
            f"AssociateAddress of {lease} by {node} outside its lease: {holders.get(lease)}"
    assert kube_nodes.leases() == []
    for d in daemons:
        assert d.terminate() == 0


def test_a_wrong_token_is_a_clear_401_and_changes_nothing(cloud, kube_nodes: KubeNodes) -> None:
    [inst] = cloud.fleet(1, pool=1)
    node = kube_nodes.add_node(inst)
    bad = kube_nodes.write_kubeconfig("bad-kubeconfig", "not-a-token-0000")
    before = cloud.snapshot()
    d = kube_nodes.daemon(node, env={"KUBECONFIG": str(bad)})
    assert d.wait_exit(30) == 77
    assert "401 Unauthorized" in d.logs and "get nodes/" + node in d.logs
    assert "not-a-token-0000" not in d.logs
    assert cloud.snapshot() == before
    assert [c for c in cloud.proxy.calls if c.mutating] == []
    assert STARTUP_TAINT in kube_nodes.taint_keys(node)


def test_a_pod_restart_keeps_the_address_with_no_cloud_mutation(cloud, kube_nodes: KubeNodes) -> None:
    [inst] = cloud.fleet(1, pool=2)
    node = kube_nodes.add_node(inst)
    first = kube_nodes.daemon(node)
    ip = kube_nodes.wait_assigned(node, first)
    assert first.terminate() == 0       # RELEASE_ON_EXIT unset: kube mode keeps it unless the Node goes
    assert [a["PublicIp"] for a in cloud.on_eni(inst.eni)] == [ip]
    cloud.proxy.clear()
    second = kube_nodes.daemon(node)
    second.wait_ready()
    assert second.held_ip() == ip
    assert [c.action for c in cloud.proxy.mutations()] == []
    kube_nodes.wait("the AddressAdopted event", lambda: "AddressAdopted" in kube_nodes.reasons(node), daemon=second)
    assert second.terminate() == 0


def test_a_node_being_deleted_gives_its_address_back(cloud, kube_nodes: KubeNodes) -> None:
    [inst] = cloud.fleet(1, pool=1)
    node = kube_nodes.add_node(inst)
    d = kube_nodes.daemon(node)
    kube_nodes.wait_assigned(node, d)
    kube_nodes.double.admin("POST", f"nodes/{node}/deletion", {})
    assert d.terminate() == 0
    assert cloud.on_eni(inst.eni) == []
    assert cloud.is_free(cloud.pool[0].allocation_id)
    assert "AddressReleased" in kube_nodes.reasons(node)


def test_the_expired_lease_of_a_dead_node_is_taken_over(cloud, kube_nodes: KubeNodes) -> None:
    [inst] = cloud.fleet(1, pool=1)
    node = kube_nodes.add_node(inst)
    name = f"kubeip-us-east-1-{cloud.pool[0].allocation_id}"
    admin = kube_nodes.write_kubeconfig("admin-kubeconfig", ADMIN_TOKEN)
    from kubernetes import client, config  # the official client writes the dead node's Lease
    api = client.CoordinationV1Api(config.new_client_from_config(str(admin)))
    old = "2026-01-01T00:00:00.000000Z"
    api.create_namespaced_lease(NAMESPACE, {
        "metadata": {"name": name}, "spec": {"holderIdentity": "dead-node_00000000", "leaseDurationSeconds": 5,
                                             "acquireTime": old, "renewTime": old}})
    d = kube_nodes.daemon(node)
    kube_nodes.wait_assigned(node, d)
    takeovers = [c for c in kube_nodes.proxy.calls if c.method == "PUT" and c.path.endswith("/leases/" + name)]
    assert takeovers and takeovers[0].status == 200
    body = json.loads(takeovers[0].body)
    assert body["spec"]["holderIdentity"].startswith(node + "_") and body["spec"]["leaseTransitions"] == 1
    assert kube_nodes.leases() == []
    assert d.terminate() == 0


def test_a_live_lease_of_another_node_is_left_alone(cloud, kube_nodes: KubeNodes) -> None:
    [inst] = cloud.fleet(1, pool=1)
    node = kube_nodes.add_node(inst)
    name = f"kubeip-us-east-1-{cloud.pool[0].allocation_id}"
    admin = kube_nodes.write_kubeconfig("admin-kubeconfig", ADMIN_TOKEN)
    from kubernetes import client, config
    api = client.CoordinationV1Api(config.new_client_from_config(str(admin)))
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000001Z", time.gmtime())
    api.create_namespaced_lease(NAMESPACE, {
        "metadata": {"name": name}, "spec": {"holderIdentity": "other-node_12345678", "leaseDurationSeconds": 3600,
                                             "acquireTime": now, "renewTime": now}})
    d = kube_nodes.daemon(node)
    d.wait_status("is being claimed by other-node_12345678")
    assert [c for c in cloud.proxy.calls if c.action == "AssociateAddress"] == []
    api.delete_namespaced_lease(name, NAMESPACE)
    kube_nodes.wait_assigned(node, d)
    assert d.terminate() == 0


def test_giving_up_marks_the_node_failed_and_idles(cloud, kube_nodes: KubeNodes) -> None:
    [holder, inst] = cloud.fleet(2, pool=1)
    cloud.ec2.associate_address(AllocationId=cloud.pool[0].allocation_id, NetworkInterfaceId=holder.eni,
                                AllowReassociation=False)
    node = kube_nodes.add_node(inst)
    d = kube_nodes.daemon(node, env={"RETRY_ATTEMPTS": "2", "RETRY_INTERVAL": "1s"})
    kube_nodes.wait("the failed label",
                    lambda: kube_nodes.node(node)["metadata"].get("labels", {}).get("kubeip.com/status") == "failed",
                    daemon=d)
    kube_nodes.wait("the GaveUp event", lambda: "GaveUp" in kube_nodes.reasons(node), daemon=d)
    assert STARTUP_TAINT in kube_nodes.taint_keys(node)
    time.sleep(1)
    assert d.running(), "gave up and stayed up (no crash loop)"
    assert kube_nodes.probe(d, "/healthz") == 200 and kube_nodes.probe(d, "/readyz") == 503
    assert d.terminate() == 0


def test_the_daemon_uses_exactly_the_shipped_rbac(cloud, kube_nodes: KubeNodes) -> None:
    """Claim (with an expired lease to take over), hold, give back: every permission the shipped
    Role and ClusterRole grant is used, and nothing else was asked for."""
    [inst] = cloud.fleet(1, pool=1)
    node = kube_nodes.add_node(inst)
    name = f"kubeip-us-east-1-{cloud.pool[0].allocation_id}"
    admin = kube_nodes.write_kubeconfig("admin-kubeconfig", ADMIN_TOKEN)
    from kubernetes import client, config
    api = client.CoordinationV1Api(config.new_client_from_config(str(admin)))
    api.create_namespaced_lease(NAMESPACE, {
        "metadata": {"name": name}, "spec": {"holderIdentity": "dead-node_00000000", "leaseDurationSeconds": 1,
                                             "renewTime": "2026-01-01T00:00:00.000000Z"}})
    d = kube_nodes.daemon(node)
    kube_nodes.wait_assigned(node, d)
    kube_nodes.double.admin("POST", f"nodes/{node}/deletion", {})
    assert d.terminate() == 0
    refused = [r for r in kube_nodes.double.requests() if r["status"] == 403]
    assert refused == [], refused
    assert kube_nodes.permissions_used() == shipped_permissions()


def test_filter_errors_stop_before_any_call(cloud, kube_nodes: KubeNodes) -> None:
    [inst] = cloud.fleet(1, pool=1)
    node = kube_nodes.add_node(inst)
    d = kube_nodes.daemon(node, env={"FILTER": "Name=tag:kubeip"})
    assert d.wait_exit(20) == 78
    assert "setting 'filter'" in d.logs
    assert cloud.proxy.calls == [] and kube_nodes.proxy.calls == []
    assert POOL_FILTER  # the fleet's own filter is valid


def test_the_token_never_reaches_a_log(cloud, kube_nodes: KubeNodes) -> None:
    [inst] = cloud.fleet(1, pool=1)
    node = kube_nodes.add_node(inst)
    d = kube_nodes.daemon(node, env={"LOG_LEVEL": "trace"})
    kube_nodes.wait_assigned(node, d)
    d.signal(signal.SIGHUP)
    d.wait_ready(after=time.monotonic())
    assert d.terminate() == 0
    assert KUBEIP_TOKEN not in d.logs + d.stdout


def _kube_policy():
    from harness import REPO_ROOT, read_readme_policy
    return read_readme_policy(REPO_ROOT / "README.md", "iam-policy-kube")


def test_the_documented_kube_mode_policy_is_exactly_enough(auth_cloud, auth_kube_nodes: KubeNodes) -> None:
    creds = auth_cloud.user("kubeip-kube", _kube_policy())
    [inst] = auth_cloud.fleet(1, pool=1, decoys=1)
    node = auth_kube_nodes.add_node(inst)
    d = auth_kube_nodes.daemon(node, env=creds)
    auth_kube_nodes.wait_assigned(node, d)
    auth_kube_nodes.double.admin("POST", f"nodes/{node}/deletion", {})
    assert d.terminate() == 0
    assert auth_cloud.is_free(auth_cloud.pool[0].allocation_id)
    refused = [(c.action, c.status, c.error_code) for c in auth_cloud.proxy.calls if c.status >= 400]
    assert refused == []
    assert {"DescribeInstances", "DescribeAddresses", "AssociateAddress", "DisassociateAddress"} \
        == set(auth_cloud.proxy.actions())


def test_without_describe_instances_kube_mode_exits_77_naming_it(auth_cloud, auth_kube_nodes: KubeNodes) -> None:
    from test_auth import without
    creds = auth_cloud.user("kubeip-kube", without(_kube_policy(), "ec2:DescribeInstances"))
    [inst] = auth_cloud.fleet(1, pool=1, decoys=0)
    node = auth_kube_nodes.add_node(inst)
    d = auth_kube_nodes.daemon(node, env=creds)
    assert d.wait_exit(30) == 77, d.describe()
    assert "ec2:DescribeInstances" in d.logs
    assert auth_cloud.is_free(auth_cloud.pool[0].allocation_id)
    assert STARTUP_TAINT in auth_kube_nodes.taint_keys(node)


def test_check_finds_the_node_detects_kube_mode_and_changes_nothing(cloud, kube_nodes: KubeNodes) -> None:
    [inst] = cloud.fleet(1, pool=2)
    node = kube_nodes.add_node(inst)
    r = kube_nodes.kubeip.run(inst, "check", env=kube_nodes.env(node))
    assert r.returncode == 0, r
    assert "mode kube (detected: node-name is set (environment NODE_NAME))" in r.stdout
    assert f"instance {inst.id}" in r.stdout and f"interface {inst.eni}" in r.stdout
    assert "Nothing was changed." in r.stdout
    assert [c for c in cloud.proxy.calls if c.mutating] == []
    assert all(c.method == "GET" for c in kube_nodes.proxy.calls)
    assert STARTUP_TAINT in kube_nodes.taint_keys(node)
