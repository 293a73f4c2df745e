#!/usr/bin/env bash
# Runs the packaged kubeip.service under a real systemd: a bookworm container
# (the cached chroot of test-deb.sh plus systemd and dbus) booted with
# systemd-nspawn, the .deb installed, and a drop-in that points the daemon at
# the simulated cloud (CLOUD=simulated). Checks that, inside the unit's
# sandbox:
#   - the service (enabled by the package) starts at boot and reaches
#     "active" (READY=1), with a STATUS= text;
#   - it runs as the kubeip system user with no capability and NoNewPrivs,
#     and wrote /var/lib/kubeip/state.json and /run/kubeip/kubeip.lock;
#   - copies of the unit running another command show that its sandbox
#     lets busctl read SystemState from the manager over the system bus
#     (release-on-exit: shutdown needs it) and lets
#     `kubeip check --cloud simulated` run;
#   - reload (SIGHUP) keeps it active; stop ends it with status 0;
#   - an invalid setting makes it exit 78 and systemd does not restart it;
#   - kubeip-node.service's sandbox passes MODE=kube and the kubeconfig
#     credential (readable as kubeip, the root-only file not), and its
#     Conflicts= stops kubeip.service;
#   - at machine shutdown it stops cleanly (read from the persistent journal).
#
# Usage: Tests/packaging/test-live.sh dist/kubeip_<version>_<arch>.deb
# Needs root, systemd-nspawn (apt-get install systemd-container) and the mirror.
# Environment: see Tests/packaging/lib.sh; KUBEIP_LIVE_TIMEOUT (default 90)
# bounds each wait for the container or the service.
set -uo pipefail

# shellcheck source=Tests/packaging/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 1)) || die "usage: $0 path/to/kubeip_<version>_<arch>.deb"
DEB=$(readlink -f "$1")
[[ -f "$DEB" ]] || die "$1: no such file"
[[ $(id -u) == 0 ]] || die "must run as root (chroot, systemd-nspawn)"
for tool in systemd-nspawn nsenter journalctl chroot tar timeout findmnt; do
    command -v "$tool" >/dev/null || die "$tool is required (apt-get install systemd-container debootstrap)"
done
WAIT=${KUBEIP_LIVE_TIMEOUT:-90}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubeip-live-test.XXXXXX")
R="$WORK/root"
NSPAWN_PID=
cleanup() {
    if [[ -n "$NSPAWN_PID" ]] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
        kill -TERM "$NSPAWN_PID" 2>/dev/null # asks the container to halt
        for _ in $(seq 20); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$NSPAWN_PID" 2>/dev/null
        wait "$NSPAWN_PID" 2>/dev/null
    fi
    unmount_below
    rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the container image -----------------------------------------------------------
make_chroot
step "apt-get update in the chroot ($MIRROR)" "$APT update" || finish
cp "$DEB" "$R/tmp/kubeip.deb"
step "install systemd, dbus and ./kubeip.deb" \
    "cd /tmp && $APT install --no-install-recommends systemd systemd-sysv dbus ./kubeip.deb" || finish
rm -f "$R/usr/sbin/policy-rc.d"
mkdir -p "$R/var/log/journal" "$R/etc/systemd/system/kubeip.service.d"
cat >"$R/etc/systemd/system/kubeip.service.d/50-test-simulated.conf" <<'EOF'
[Service]
Environment=CLOUD=simulated
EOF
# No login prompt on the console; nothing else that the test does not need.
for u in console-getty.service getty@.service systemd-networkd.service systemd-resolved.service; do
    ln -sf /dev/null "$R/etc/systemd/system/$u"
done

# --- boot ----------------------------------------------------------------------------
systemd-nspawn -D "$R" --boot --register=no --keep-unit --console=pipe \
    --machine="kubeip-test-$$" </dev/null >"$WORK/console.log" 2>&1 &
NSPAWN_PID=$!
INIT=
for _ in $(seq $((WAIT * 2))); do
    # nspawn's first child is short-lived; the container's PID 1 is the
    # child that runs systemd.
    INIT=$(ps --ppid "$NSPAWN_PID" -o pid=,comm= 2>/dev/null | awk '$2 == "systemd" { print $1; exit }')
    [[ -n "$INIT" ]] && break
    kill -0 "$NSPAWN_PID" 2>/dev/null || break
    sleep 0.5
done
if [[ -z "$INIT" ]]; then
    fail "systemd-nspawn did not start the container"
    indent <"$WORK/console.log"
    finish
fi

# in_container <command line>: run it with sh in the container's namespaces.
in_container() {
    timeout "$WAIT" nsenter -t "$INIT" -a /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        LC_ALL=C.UTF-8 SYSTEMD_PAGER= /bin/sh -c "$*" </dev/null
}
live() { local what=$1; shift; check "$what" in_container "$@"; }
prop() { in_container "systemctl show -P $1 kubeip.service"; }

# Wait (bounded) for the manager to answer, then for kubeip to settle.
for _ in $(seq $((WAIT * 2))); do
    in_container "systemctl is-system-running" >/dev/null 2>&1
    case $? in 0 | 1) state=$(in_container "systemctl is-system-running" 2>/dev/null) ;; esac
    [[ "${state:-}" =~ ^(running|degraded|starting)$ ]] && break
    sleep 0.5
done
if [[ "${state:-}" =~ ^(running|degraded|starting)$ ]]; then
    ok "container booted (system state: $state)"
else
    fail "the container did not boot within ${WAIT}s"
    if ! kill -0 "$NSPAWN_PID" 2>/dev/null; then
        wait "$NSPAWN_PID"
        note "systemd-nspawn exited with status $?"
        NSPAWN_PID=
    fi
    indent <"$WORK/console.log" | tail -n 30
    finish
fi

for _ in $(seq $((WAIT * 2))); do
    s=$(prop ActiveState 2>/dev/null)
    [[ "$s" == active || "$s" == failed ]] && break
    sleep 0.5
done
if [[ "$s" == active ]]; then
    ok "kubeip.service started at boot and is active (READY=1)"
else
    fail "kubeip.service is '$s', not active, ${WAIT}s after boot"
    in_container "systemctl status --no-pager --lines=0 kubeip.service; journalctl -b -u kubeip.service --no-pager -n 20" 2>&1 | indent
    finish
fi
status=$(prop StatusText)
if [[ -n "$status" ]]; then ok "STATUS= text: $status"; else fail "no STATUS= text"; fi

# --- the sandboxed process -------------------------------------------------------------
pid=$(prop MainPID)
proc=$(in_container "cat /proc/$pid/status" 2>/dev/null)
uid=$(awk '/^Uid:/ { print $2 }' <<<"$proc")
user=$(in_container "getent passwd $uid" 2>/dev/null | cut -d: -f1)
if [[ -n "$uid" && "$user" == kubeip ]]; then
    ok "runs as kubeip (uid $uid), not root"
else
    fail "runs as uid '${uid}'"
fi
capeff=$(awk '/^CapEff:/ { print $2 }' <<<"$proc")
capbnd=$(awk '/^CapBnd:/ { print $2 }' <<<"$proc")
if [[ "$capeff" =~ ^0+$ && "$capbnd" =~ ^0+$ ]]; then ok "no capability (CapEff=$capeff CapBnd=$capbnd)"; else fail "capabilities: CapEff=$capeff CapBnd=$capbnd"; fi
if grep -q '^NoNewPrivs:[[:space:]]*1' <<<"$proc"; then ok "NoNewPrivs=1"; else fail "NoNewPrivs is not set"; fi
live "/var/lib/kubeip/state.json written by kubeip" \
    "test \"\$(stat -c %U /var/lib/kubeip/state.json)\" = kubeip"
live "/run/kubeip/kubeip.lock exists" "test -e /run/kubeip/kubeip.lock"

# The same sandbox, other commands: copies of the unit as oneshot services
# that run one command each (probe <name> <description> <command line>).
probe() {
    local name=$1 what=$2 cmd=$3
    sed -e 's/^Type=.*/Type=oneshot/' -e "s|^ExecStart=.*|ExecStart=$cmd|" \
        -e '/^\(ExecReload\|WatchdogSec\|Restart\|RestartSec\|TimeoutStartSec\|NotifyAccess\)=/d' \
        -e '/^\[Install\]/,$d' \
        "$R/lib/systemd/system/kubeip.service" >"$R/etc/systemd/system/kubeip-probe-$name.service"
    in_container "systemctl daemon-reload"
    live "$what" "systemctl start kubeip-probe-$name.service ||
        { journalctl -b -u kubeip-probe-$name.service --no-pager -n 15; exit 1; }"
}
# What the daemon asks at stop for release-on-exit: shutdown.
probe bus "the unit's sandbox may read SystemState over the system bus" \
    "/usr/bin/busctl get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager SystemState"
# The Swift runtime (threads, /proc/self, allowed system calls) in the sandbox.
probe check "kubeip check --cloud simulated runs in the unit's sandbox" \
    "/usr/bin/kubeip check --cloud simulated"

# --- reload, stop ----------------------------------------------------------------------
live "systemctl reload kubeip" "systemctl reload kubeip.service" &&
    live "still active after reload" "systemctl is-active --quiet kubeip.service"
live "systemctl stop kubeip" "systemctl stop kubeip.service"
result="$(prop Result) $(prop ExecMainStatus)"
if [[ "$result" == "success 0" ]]; then ok "stopped: Result=success, exit status 0"; else fail "stopped with Result/status '$result'"; fi

# --- an invalid setting ----------------------------------------------------------------
cat >"$R/etc/systemd/system/kubeip.service.d/60-test-invalid.conf" <<'EOF'
[Service]
Environment=RETRY_INTERVAL=bogus
EOF
in_container "systemctl daemon-reload"
in_container "systemctl start kubeip.service" >/dev/null 2>&1
sleep 1
got="$(prop ExecMainStatus) $(prop ActiveState) $(prop SubState) $(prop NRestarts)"
if [[ "$got" == "78 failed failed 0" ]]; then
    ok "invalid setting: exit 78, unit failed, not restarted"
else
    fail "invalid setting: status/state/substate/restarts are '$got', expected '78 failed failed 0'"
    in_container "journalctl -b -u kubeip.service --no-pager -n 15" 2>&1 | indent
fi
rm "$R/etc/systemd/system/kubeip.service.d/60-test-invalid.conf"
in_container "systemctl daemon-reload && systemctl reset-failed kubeip.service"
live "started again with valid settings" "systemctl start kubeip.service && systemctl is-active --quiet kubeip.service"

# --- kube mode on a node image: kubeip-node.service ----------------------------------
# Its own sandbox and wiring, with a command that checks them in place of the
# daemon: MODE=kube, KUBECONFIG naming the credential systemd loaded from the
# root-only /etc/kubeip/kubeconfig (which the kubeip user cannot read
# itself), running as kubeip. Conflicts=kubeip.service: starting it stops
# host mode.
printf 'apiVersion: v1\nkind: Config\n' >"$R/etc/kubeip/kubeconfig"
chmod 0600 "$R/etc/kubeip/kubeconfig"
sed '/^\[Install\]/,$d' "$R/lib/systemd/system/kubeip-node.service" >"$R/etc/systemd/system/kubeip-node-probe.service"
mkdir -p "$R/etc/systemd/system/kubeip-node-probe.service.d"
cat >"$R/etc/systemd/system/kubeip-node-probe.service.d/probe.conf" <<'EOF'
[Service]
Type=oneshot
ExecStart=
ExecStart=/bin/sh -c 'test "$$MODE" = kube && test "$$KUBECONFIG" = "%d/kubeconfig" && grep -q "kind: Config" "$$KUBECONFIG" && ! test -r /etc/kubeip/kubeconfig && test "$$(id -un)" = kubeip'
ExecReload=
WatchdogSec=0
Restart=no
TimeoutStartSec=30s
EOF
in_container "systemctl daemon-reload"
live "kubeip-node.service's sandbox: MODE=kube, the kubeconfig credential readable as kubeip, /etc/kubeip/kubeconfig not" \
    "systemctl start kubeip-node-probe.service ||
        { journalctl -b -u kubeip-node-probe.service --no-pager -n 15; exit 1; }"
got=$(prop ActiveState)
if [[ "$got" == inactive ]]; then
    ok "kubeip-node.service's Conflicts= stopped kubeip.service"
else
    fail "kubeip.service is '$got' after a kubeip-node unit started (Conflicts=kubeip.service)"
fi
rm -r "$R/etc/systemd/system/kubeip-node-probe.service" "$R/etc/systemd/system/kubeip-node-probe.service.d" \
    "$R/etc/kubeip/kubeconfig"
in_container "systemctl daemon-reload"
live "kubeip.service started again after the kube-mode probe" \
    "systemctl start kubeip.service && systemctl is-active --quiet kubeip.service"

# --- shutdown ----------------------------------------------------------------------------
in_container "systemctl poweroff" >/dev/null 2>&1
for _ in $(seq $((WAIT * 2))); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$NSPAWN_PID" 2>/dev/null; then
    fail "the container did not power off within ${WAIT}s"
else
    wait "$NSPAWN_PID"
    ok "container powered off"
    NSPAWN_PID=
    journal=$(journalctl -D "$R/var/log/journal" -b -u kubeip.service --no-pager -o cat 2>&1)
    if grep -q 'kubeip.service: Deactivated successfully' <<<"$journal" &&
        ! grep -q 'kubeip.service: Failed with result' <<<"$(tail -n 5 <<<"$journal")"; then
        ok "stopped cleanly at shutdown"
    else
        fail "no clean stop of kubeip.service at shutdown"
    fi
    note "last kubeip lines of the boot:"
    tail -n 6 <<<"$journal" | indent
fi

finish
