#!/usr/bin/env python3
"""Checks packaging/kubernetes (Kustomize base and overlays) without a cluster.

  1. `kubectl kustomize` renders base/, aws/, gcp/ and node-image/;
  2. kubernetes-validate (PyPI) validates every rendered object, strictly (no
     unknown field), against the schemas of Kubernetes 1.30 and 1.37; a
     deliberately wrong object proves the validator does reject;
  3. RBAC is exactly what the daemon calls: nodes get/patch (ClusterRole);
     coordination.k8s.io leases get/create/update/delete and events.k8s.io
     events create (Role in the lease namespace); bound to the ServiceAccount
     the pods use; read from the plain files in base/ and compared with every
     rendering;
  4. the DaemonSet: settings names (kubeip v2's, ../shared/mission/CONTRACT.md),
     MODE=kube, the Downward API for NODE_NAME and LEASE_NAMESPACE,
     RELEASE_ON_EXIT=shutdown, METRICS_ADDRESS on the named container port
     that every probe uses, FILTER required (base) and set (overlays),
     tolerating the startup taint, no nodeSelector, system-node-critical,
     rolling update, grace period, requests and limits, the security context
     (Pod Security Standard "restricted"), the image tag = the package
     version = the image's user as built by packaging/build-image.sh, and an
     `images:` override that takes effect;
  5. the overlays' identity annotations, and node-image/ (no DaemonSet, a
     ServiceAccount token Secret, the same RBAC).

Usage: Tests/packaging/test-manifests.py     (python3 with kubernetes-validate)
"""

import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KUSTOMIZE = os.path.join(ROOT, "packaging", "kubernetes")
VALIDATE_VERSIONS = ["1.30.0", "1.37.0"]

try:
    import yaml
    import kubernetes_validate
    from kubernetes_validate.utils import ValidationError, SchemaNotFoundError
except ImportError as e:  # pragma: no cover - environment problem, not a test failure
    print(f"test-manifests: {e}; install it: pip install kubernetes-validate==1.37.0", file=sys.stderr)
    sys.exit(2)

passed = 0
failed = 0


def ok(msg):
    global passed
    passed += 1
    print(f"ok   {msg}")


def fail(msg):
    global failed
    failed += 1
    print(f"FAIL {msg}")


def check(cond, msg, detail=None):
    if cond:
        ok(msg)
    else:
        fail(msg + (f": {detail}" if detail is not None else ""))
    return cond


def note(msg):
    print(f"     {msg}")


# --- facts fixed elsewhere --------------------------------------------------------

def package_version():
    """Upstream version of the newest debian/changelog entry."""
    with open(os.path.join(ROOT, "debian", "changelog")) as f:
        m = re.match(r"^kubeip \((?:\d+:)?([^)-]+)(?:-[^)]*)?\)", f.readline())
    assert m, "debian/changelog: no version on the first line"
    return m.group(1)


def image_user():
    """IMAGE_UID and IMAGE_GID as packaging/build-image.sh sets them."""
    with open(os.path.join(ROOT, "packaging", "build-image.sh")) as f:
        text = f.read()
    uid = re.search(r"^IMAGE_UID=(\d+)$", text, re.M)
    gid = re.search(r"^IMAGE_GID=(\d+)$", text, re.M)
    port = re.search(r"^METRICS_PORT=(\d+)$", text, re.M)
    assert uid and gid and port, "packaging/build-image.sh: IMAGE_UID, IMAGE_GID or METRICS_PORT not found"
    return int(uid.group(1)), int(gid.group(1)), int(port.group(1))


# kubeip's environment settings (kubeip v2's names; CONTRACT.md).
SETTINGS_ENV = {
    "MODE", "NODE_NAME", "FILTER", "ORDER_BY", "LEASE_NAMESPACE", "LEASE_DURATION", "TAINT_KEY",
    "RELEASE_ON_EXIT", "RETRY_INTERVAL", "RETRY_ATTEMPTS", "RECONCILE_INTERVAL", "LOG_LEVEL",
    "LOG_JSON", "IPV6", "IP_FAMILIES", "CLOUD", "PROJECT", "REGION", "KUBECONFIG",
    "METRICS_ADDRESS",
}
LEASE_NAMESPACE = "kube-system"
TAINT_KEY = "kubeip.com/not-ready"

# What the daemon calls, and nothing more.
CLUSTER_RULES = [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]}]
NAMESPACED_RULES = [
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update", "delete"]},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
]


def canonical_rules(rules):
    """Rules as a set of (group, resource, verb, resourceNames, nonResourceURLs) tuples."""
    out = set()
    for r in rules or []:
        for g in r.get("apiGroups", [None]):
            for res in r.get("resources", [None]):
                for v in r.get("verbs", []):
                    out.add((g, res, v, tuple(r.get("resourceNames", [])), tuple(r.get("nonResourceURLs", []))))
    return out


# --- rendering ----------------------------------------------------------------------------

def kustomize(path):
    p = subprocess.run(["kubectl", "kustomize", path], capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip()
    return [d for d in yaml.safe_load_all(p.stdout) if d], None


def by_kind(objs, kind):
    return [o for o in objs if o.get("kind") == kind]


def one(objs, kind):
    found = by_kind(objs, kind)
    return found[0] if len(found) == 1 else None


def validate(obj, version):
    try:
        kubernetes_validate.validate(obj, version, strict=True)
        return None
    except (ValidationError, SchemaNotFoundError) as e:
        return str(e).splitlines()[0][:300]


# --- checks --------------------------------------------------------------------------------

def check_validation(name, objs):
    for version in VALIDATE_VERSIONS:
        errors = []
        for o in objs:
            err = validate(o, version)
            if err:
                errors.append(f"{o['kind']}/{o['metadata']['name']}: {err}")
        check(not errors, f"{name}: {len(objs)} objects valid for Kubernetes {version} (strict)", errors)


def check_labels(name, objs, version):
    want = {
        "app.kubernetes.io/name": "kubeip",
        "app.kubernetes.io/instance": "kubeip",
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/part-of": "kubeip",
        "app.kubernetes.io/managed-by": "kustomize",
    }
    bad = []
    for o in objs:
        labels = o["metadata"].get("labels", {})
        for k, v in want.items():
            if labels.get(k) != v:
                bad.append(f"{o['kind']}/{o['metadata']['name']} {k}={labels.get(k)!r}")
        if "app.kubernetes.io/component" not in labels:
            bad.append(f"{o['kind']}/{o['metadata']['name']} has no app.kubernetes.io/component")
    check(not bad, f"{name}: app.kubernetes.io/* labels on every object (version {version})", bad)
    cluster_scoped = {"ClusterRole", "ClusterRoleBinding"}
    wrong_ns = [f"{o['kind']}/{o['metadata']['name']}: {o['metadata'].get('namespace')!r}" for o in objs
                if (o["kind"] in cluster_scoped) == ("namespace" in o["metadata"])
                or (o["kind"] not in cluster_scoped and o["metadata"]["namespace"] != LEASE_NAMESPACE)]
    check(not wrong_ns, f"{name}: namespaced objects in {LEASE_NAMESPACE}, cluster-scoped ones without a namespace",
          wrong_ns)


def check_rbac(name, objs, sa_name):
    roles = by_kind(objs, "Role")
    croles = by_kind(objs, "ClusterRole")
    check(len(roles) == 1 and len(croles) == 1, f"{name}: one Role and one ClusterRole",
          [o["metadata"]["name"] for o in roles + croles])
    if croles:
        check(canonical_rules(croles[0]["rules"]) == canonical_rules(CLUSTER_RULES),
              f"{name}: ClusterRole is exactly nodes get, patch", croles[0]["rules"])
    if roles:
        check(canonical_rules(roles[0]["rules"]) == canonical_rules(NAMESPACED_RULES),
              f"{name}: Role is exactly leases get/create/update/delete and events.k8s.io events create",
              roles[0]["rules"])
        check(roles[0]["metadata"]["namespace"] == LEASE_NAMESPACE, f"{name}: Role in {LEASE_NAMESPACE}")
    for kind, rkind, role in (("ClusterRoleBinding", "ClusterRole", croles), ("RoleBinding", "Role", roles)):
        bindings = by_kind(objs, kind)
        good = (len(bindings) == 1 and role
                and bindings[0]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": rkind,
                                               "name": role[0]["metadata"]["name"]}
                and bindings[0]["subjects"] == [{"kind": "ServiceAccount", "name": sa_name,
                                                 "namespace": LEASE_NAMESPACE}])
        check(good, f"{name}: {kind} binds {rkind} to ServiceAccount {LEASE_NAMESPACE}/{sa_name} only",
              [b.get("roleRef") for b in bindings] + [b.get("subjects") for b in bindings])
    wild = [r for o in roles + croles for r in o["rules"]
            if "*" in r.get("verbs", []) + r.get("resources", []) + r.get("apiGroups", [])]
    check(not wild, f"{name}: no wildcard in any rule", wild)


def tolerates(tolerations, key, effect, value=""):
    for t in tolerations or []:
        op = t.get("operator", "Equal")
        if t.get("effect") not in (None, "", effect):
            continue
        if op == "Exists" and t.get("key") in (None, "", key):
            return True
        if op == "Equal" and t.get("key") == key and t.get("value", "") == value:
            return True
    return False


def quantity(q):
    """Kubernetes quantity to a float (cpu cores or bytes)."""
    q = str(q)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for u, f in units.items():
        if q.endswith(u):
            return float(q[: -len(u)]) * f
    return float(q)


def check_daemonset(name, objs, version, uid, gid, port, overlay):
    ds = one(objs, "DaemonSet")
    if not check(ds is not None, f"{name}: one DaemonSet"):
        return
    spec = ds["spec"]
    pod = spec["template"]["spec"]
    containers = pod["containers"]
    check(len(containers) == 1 and not pod.get("initContainers"), f"{name}: one container, no init containers")
    c = containers[0]
    sa = one(objs, "ServiceAccount")
    check(sa is not None and pod.get("serviceAccountName") == sa["metadata"]["name"],
          f"{name}: pods run as ServiceAccount {pod.get('serviceAccountName')}")
    check(pod.get("automountServiceAccountToken", True) is True, f"{name}: service-account token mounted (in-cluster config)")

    # Placement.
    check(not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC"),
          f"{name}: not hostNetwork, hostPID, hostIPC")
    check(pod.get("priorityClassName") == "system-node-critical", f"{name}: priorityClassName system-node-critical")
    affinity = pod.get("affinity", {}).get("nodeAffinity", {})
    check(not pod.get("nodeSelector") and "requiredDuringSchedulingIgnoredDuringExecution" not in affinity,
          f"{name}: no nodeSelector, no required node affinity (Karpenter nodes have no node-pool label)")
    tol = pod.get("tolerations")
    check(tolerates(tol, TAINT_KEY, "NoSchedule"), f"{name}: tolerates the startup taint {TAINT_KEY}:NoSchedule", tol)
    check(tolerates(tol, "example.com/any", "NoSchedule") and tolerates(tol, "example.com/any", "NoExecute"),
          f"{name}: tolerates any NoSchedule and NoExecute taint (a node agent)", tol)
    strategy = spec.get("updateStrategy", {})
    ru = strategy.get("rollingUpdate", {})
    check(strategy.get("type") == "RollingUpdate" and str(ru.get("maxSurge", 0)) in ("0", "0%")
          and str(ru.get("maxUnavailable", "")) not in ("", "0", "0%"),
          f"{name}: RollingUpdate, maxUnavailable {ru.get('maxUnavailable')}, no surge (two kubeips on one node)",
          strategy)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    check(90 <= grace <= 300, f"{name}: terminationGracePeriodSeconds {grace} (a GCE release: two operations and a retry budget)")

    # Security context: Pod Security Standard "restricted", and the token files.
    psc = pod.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True and psc.get("runAsUser") == uid and psc.get("runAsGroup") == gid,
          f"{name}: pod runs as {uid}:{gid}, runAsNonRoot (the image's user)", psc)
    check(psc.get("seccompProfile") == {"type": "RuntimeDefault"}, f"{name}: seccompProfile RuntimeDefault")
    csc = c.get("securityContext", {})
    check(csc.get("allowPrivilegeEscalation") is False, f"{name}: allowPrivilegeEscalation false")
    check(csc.get("readOnlyRootFilesystem") is True, f"{name}: readOnlyRootFilesystem")
    check(csc.get("capabilities", {}).get("drop") == ["ALL"] and not csc.get("capabilities", {}).get("add"),
          f"{name}: capabilities drop ALL, add none")
    check(not csc.get("privileged"), f"{name}: not privileged")
    check("runAsUser" not in csc and "runAsGroup" not in csc,
          f"{name}: no container-level user (the pod's is the one user, so the kubelet makes token files 0600 for it)")
    vols = pod.get("volumes", [])
    check(all(set(v) <= {"name", "emptyDir"} for v in vols), f"{name}: only emptyDir volumes (no hostPath)", vols)
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    emptydirs = {v["name"] for v in vols if "emptyDir" in v}
    check(all(mounts.get(p) in emptydirs for p in ("/var/lib/kubeip", "/run/kubeip")),
          f"{name}: writable emptyDirs at /var/lib/kubeip and /run/kubeip (read-only root)", mounts)
    check(not any(p.get("hostPort") for p in c.get("ports", [])), f"{name}: no hostPort")

    # Image.
    image = c["image"]
    m = re.match(r"^(?P<name>[^@]+?)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@sha256:[0-9a-f]{64})?$", image)
    tag = m.group("tag") if m else None
    if overlay:
        check(tag == version, f"{name}: image {image} tagged with the package version {version}")
    else:
        check(image == f"localhost/kubeip:{version}", f"{name}: image localhost/kubeip:{version}", image)
    check(c.get("imagePullPolicy") == "IfNotPresent", f"{name}: imagePullPolicy IfNotPresent (a fixed tag)")
    check("command" not in c and "args" not in c, f"{name}: no command or args (the image's entrypoint, kubeip run)")

    # Environment.
    env = {e["name"]: e for e in c.get("env", [])}
    cm_names = [e["configMapRef"]["name"] for e in c.get("envFrom", []) if "configMapRef" in e]
    cms = {o["metadata"]["name"]: o for o in by_kind(objs, "ConfigMap")}
    from_cm = {}
    for n in cm_names:
        check(n in cms, f"{name}: envFrom ConfigMap {n} is rendered")
        from_cm.update(cms.get(n, {}).get("data", {}))
    names = set(env) | set(from_cm)
    check(names <= SETTINGS_ENV, f"{name}: only kubeip's setting names ({len(names)})", sorted(names - SETTINGS_ENV))
    check(env.get("MODE", {}).get("value") == "kube", f"{name}: MODE=kube")
    check(env.get("NODE_NAME", {}).get("valueFrom") == {"fieldRef": {"fieldPath": "spec.nodeName"}},
          f"{name}: NODE_NAME from the Downward API spec.nodeName")
    check(env.get("LEASE_NAMESPACE", {}).get("valueFrom") == {"fieldRef": {"fieldPath": "metadata.namespace"}},
          f"{name}: LEASE_NAMESPACE from the Downward API metadata.namespace")
    check(env.get("RELEASE_ON_EXIT", {}).get("value") == "shutdown",
          f"{name}: RELEASE_ON_EXIT=shutdown (a rollout never moves an address)")
    check(from_cm.get("TAINT_KEY", env.get("TAINT_KEY", {}).get("value")) == TAINT_KEY, f"{name}: TAINT_KEY={TAINT_KEY}")
    check(from_cm.get("LOG_JSON") == "true", f"{name}: LOG_JSON=true")
    filt = env.get("FILTER", {}).get("valueFrom", {}).get("configMapKeyRef", {})
    check(filt.get("key") == "FILTER" and filt.get("name") in cm_names and not filt.get("optional", False),
          f"{name}: FILTER required from the settings ConfigMap", filt)
    if overlay:
        check(bool(from_cm.get("FILTER")), f"{name}: FILTER={from_cm.get('FILTER')}")
    else:
        check("FILTER" not in from_cm,
              f"{name}: no FILTER in the base (pods wait for an overlay's instead of taking any address)")

    # Metrics address, port, probes.
    addr = env.get("METRICS_ADDRESS", {}).get("value", "")
    check(addr == f"0.0.0.0:{port}", f"{name}: METRICS_ADDRESS={addr}")
    ports = c.get("ports", [])
    named = [p for p in ports if p.get("name") == "http-metrics"]
    check(len(named) == 1 and named[0]["containerPort"] == int(addr.rsplit(":", 1)[-1] or 0)
          and named[0].get("protocol", "TCP") == "TCP",
          f"{name}: container port http-metrics = METRICS_ADDRESS's port", ports)
    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        p = c.get(probe, {})
        get = p.get("httpGet", {})
        check(get.get("path") == path and get.get("port") in ("http-metrics", port)
              and p.get("timeoutSeconds", 1) <= p.get("periodSeconds", 10),
              f"{name}: {probe} GET {path} on http-metrics", p)
    live = c.get("livenessProbe", {})
    check(live.get("periodSeconds", 10) * live.get("failureThreshold", 3) >= 90,
          f"{name}: liveness tolerates >= 90s of silence (a GCE swap in one step)")

    # Resources: ~21 MiB resident, near-zero CPU.
    res = c.get("resources", {})
    req, lim = res.get("requests", {}), res.get("limits", {})
    good = (set(req) == {"cpu", "memory"} and set(lim) >= {"memory"}
            and 24 * 2**20 <= quantity(req["memory"]) <= quantity(lim["memory"]) <= 256 * 2**20
            and quantity(req["cpu"]) <= 0.1 and ("cpu" not in lim or quantity(lim["cpu"]) >= quantity(req["cpu"])))
    check(good, f"{name}: requests {req}, limits {lim}", res)


def check_image_override(base_objs):
    """A kustomize `images:` entry over the base changes name and tag."""
    tmp = tempfile.mkdtemp(prefix="kubeip-kustomize-")
    try:
        rel = os.path.relpath(os.path.join(KUSTOMIZE, "base"), tmp)
        with open(os.path.join(tmp, "kustomization.yaml"), "w") as f:
            f.write(f"resources:\n  - {rel}\nimages:\n  - name: localhost/kubeip\n"
                    f"    newName: registry.example/team/kubeip\n    newTag: 9.9.9\n")
        objs, err = kustomize(tmp)
        ds = one(objs or [], "DaemonSet")
        image = ds["spec"]["template"]["spec"]["containers"][0]["image"] if ds else err
        check(image == "registry.example/team/kubeip:9.9.9",
              "kustomize images: overrides the image name and tag", image)
    finally:
        shutil.rmtree(tmp)


def check_validator_rejects():
    """The validator is strict: an unknown field and a wrong type fail."""
    obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x", "namespace": "y"},
           "automountServiceAcountToken": True}
    bad_type = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "x"}, "rules": [{"apiGroups": [""], "resources": "nodes", "verbs": ["get"]}]}
    check(validate(obj, VALIDATE_VERSIONS[-1]) is not None and validate(bad_type, VALIDATE_VERSIONS[-1]) is not None,
          "kubernetes-validate rejects an unknown field and a wrong type (the check can fail)")


def main():
    if shutil.which("kubectl") is None:
        print("test-manifests: kubectl is required (kubectl kustomize)", file=sys.stderr)
        return 2
    version = package_version()
    uid, gid, port = image_user()
    note(f"kubernetes-validate {kubernetes_validate.__version__ if hasattr(kubernetes_validate, '__version__') else ''}"
         f"; package version {version}; image user {uid}:{gid}")
    check_validator_rejects()

    # The rules as written in the plain files (what an API double test reads).
    with open(os.path.join(KUSTOMIZE, "base", "clusterrole.yaml")) as f:
        check(canonical_rules(yaml.safe_load(f)["rules"]) == canonical_rules(CLUSTER_RULES),
              "base/clusterrole.yaml: nodes get, patch")
    with open(os.path.join(KUSTOMIZE, "base", "role.yaml")) as f:
        check(canonical_rules(yaml.safe_load(f)["rules"]) == canonical_rules(NAMESPACED_RULES),
              "base/role.yaml: leases get, create, update, delete; events.k8s.io events create")

    rendered = {}
    for name in ("base", "aws", "gcp", "node-image"):
        objs, err = kustomize(os.path.join(KUSTOMIZE, name))
        if not check(objs is not None, f"kubectl kustomize {name}/ renders", err):
            continue
        rendered[name] = objs
        note(f"{name}/: " + ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in objs))
        check_validation(name, objs)
        check_labels(name, objs, version)
        check_rbac(name, objs, "kubeip")
        if name != "node-image":
            check_daemonset(name, objs, version, uid, gid, port, overlay=(name != "base"))

    if "base" in rendered:
        check_image_override(rendered["base"])
    if "aws" in rendered:
        sa = one(rendered["aws"], "ServiceAccount")
        arn = sa["metadata"].get("annotations", {}).get("eks.amazonaws.com/role-arn", "")
        check(re.fullmatch(r"arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+", arn) is not None,
              f"aws/: IRSA annotation eks.amazonaws.com/role-arn={arn}")
        filt = next(iter(by_kind(rendered["aws"], "ConfigMap")), {}).get("data", {}).get("FILTER", "")
        clause = r"Name=[\w:./-]+,Values=[^;,]+(,[^;,]+)*"
        check(re.fullmatch(rf"{clause}(;{clause})*", filt) is not None, f"aws/: FILTER in EC2 shorthand: {filt}")
    if "gcp" in rendered:
        sa = one(rendered["gcp"], "ServiceAccount")
        gsa = sa["metadata"].get("annotations", {}).get("iam.gke.io/gcp-service-account", "")
        check(re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com", gsa.replace("PROJECT_ID", "project-id")) is not None,
              f"gcp/: Workload Identity annotation iam.gke.io/gcp-service-account={gsa}")
        filt = next(iter(by_kind(rendered["gcp"], "ConfigMap")), {}).get("data", {}).get("FILTER", "")
        check(re.fullmatch(r"labels\.[\w-]+=[\w-]+(;labels\.[\w-]+=[\w-]+)*", filt) is not None,
              f"gcp/: FILTER as Compute API label clauses: {filt}")
    if "node-image" in rendered:
        objs = rendered["node-image"]
        check(not by_kind(objs, "DaemonSet") and not by_kind(objs, "ConfigMap"),
              "node-image/: no DaemonSet and no settings ConfigMap (kubeip-node.service runs on the nodes)")
        secrets = by_kind(objs, "Secret")
        check(len(secrets) == 1 and secrets[0].get("type") == "kubernetes.io/service-account-token"
              and secrets[0]["metadata"].get("annotations", {}).get("kubernetes.io/service-account.name") == "kubeip"
              and "data" not in secrets[0] and "stringData" not in secrets[0],
              "node-image/: a token Secret for ServiceAccount kubeip, filled in by the cluster", secrets)
        if "base" in rendered:
            strip = lambda os_: sorted((o["kind"], yaml.safe_dump(o.get("rules") or o.get("subjects") or []))
                                       for o in os_ if o["kind"] in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"))
            check(strip(objs) == strip(rendered["base"]), "node-image/: the same roles and bindings as the DaemonSet")

    print()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
