#!/usr/bin/env bash
# Checks systemd/kubeip.service (host mode) and systemd/kubeip-node.service
# (kube mode on a node image) without installing anything on this machine:
#   - `systemd-analyze verify` passes with no output at all, for each unit
#     and for both together with a stand-in kubelet.service, against a
#     throwaway root holding stub /usr/bin/kubeip and /bin/kill and the host's
#     unit files, with MANPATH pointing at the man page rendered from
#     packaging/kubeip.8.in (so the Documentation= check runs too);
#   - why kube mode is a second unit: a drop-in cannot reset kubeip.service's
#     Before=kubelet.service, so adding After=kubelet.service to it makes
#     verify report an ordering cycle;
#   - `systemd-analyze security --offline=true` rates each exposure <= 1.2;
#   - the settings the packaging and the daemon rely on are present, and
#     kubeip-node.service has every sandbox setting of kubeip.service;
#   - the man page template renders without groff warnings.
# Usage: Tests/packaging/test-unit.sh      (exit status 0 = all passed)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HOST_UNIT="$ROOT/systemd/kubeip.service"
NODE_UNIT="$ROOT/systemd/kubeip-node.service"
MAX_EXPOSURE=${KUBEIP_MAX_EXPOSURE:-1.2}

passed=0 failed=0
ok()   { passed=$((passed + 1)); printf 'ok   %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }

for tool in systemd-analyze man; do
    command -v "$tool" >/dev/null || { echo "test-unit: $tool is required" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubeip-unit.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- man page rendered from the template with a stand-in settings section ----
mkdir -p "$WORK/man/man8"
printf '.SH SETTINGS\nStand-in for the generated settings section.\n' >"$WORK/settings.man"
sed -e 's/@VERSION@/0.0.0/g' -e 's/@DATE@/2026-01-01/g' \
    -e "/^@SETTINGS@\$/{r $WORK/settings.man" -e 'd}' \
    "$ROOT/packaging/kubeip.8.in" >"$WORK/man/man8/kubeip.8"
warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$WORK/man/man8/kubeip.8" 2>&1 >/dev/null)
if [[ -z "$warnings" ]]; then
    ok "man --warnings: packaging/kubeip.8.in renders cleanly"
else
    fail "man --warnings on packaging/kubeip.8.in:"$'\n'"$warnings"
fi

# --- systemd-analyze verify --------------------------------------------------
R="$WORK/root"
mkdir -p "$R/usr/bin" "$R/bin" "$R/usr/lib/systemd" "$R/etc/systemd/system"
printf '#!/bin/sh\nexit 0\n' >"$R/usr/bin/kubeip"
chmod 0755 "$R/usr/bin/kubeip"
# Only existence and the executable bit are checked: a stub will do.
cp "$R/usr/bin/kubeip" "$R/bin/kill"
cp "$R/usr/bin/kubeip" "$R/usr/bin/kubelet"
cp -a /lib/systemd/system "$R/usr/lib/systemd/system"
cp "$HOST_UNIT" "$R/etc/systemd/system/kubeip.service"
cp "$NODE_UNIT" "$R/etc/systemd/system/kubeip-node.service"

analyze_verify() { MANPATH="$WORK/man" systemd-analyze verify --root="$R" "$@" 2>&1; }
verify() { # verify <description> <unit>...: passes with no output at all
    local what=$1 out rc
    shift
    out=$(analyze_verify "$@")
    rc=$?
    if [[ $rc == 0 && -z "$out" ]]; then
        ok "systemd-analyze verify $what: no warning"
    else
        fail "systemd-analyze verify $what (exit $rc):"$'\n'"$out"
    fi
}
verify kubeip.service kubeip.service
verify kubeip-node.service kubeip-node.service

# With a kubelet to order against: verify builds a start transaction for each
# unit it is given, so an ordering cycle would show.
printf '[Unit]\nDescription=stand-in for kubelet\n[Service]\nExecStart=/usr/bin/kubelet\n' \
    >"$R/etc/systemd/system/kubelet.service"
verify "kubelet.service kubeip.service kubeip-node.service" kubelet.service kubeip.service kubeip-node.service

# Kube mode cannot be a drop-in for kubeip.service: an empty assignment does
# not reset dependencies (systemd.unit(5), "Dependencies (After=, etc.)
# cannot be reset to an empty list"), so Before=kubelet.service stays and
# After=kubelet.service closes a cycle.
mkdir -p "$R/etc/systemd/system/kubeip.service.d"
printf '[Unit]\nBefore=\nAfter=kubelet.service\n' >"$R/etc/systemd/system/kubeip.service.d/50-kube-mode.conf"
out=$(analyze_verify kubelet.service kubeip.service)
if grep -q 'ordering cycle' <<<"$out"; then
    ok "a drop-in 'Before=' + 'After=kubelet.service' on kubeip.service is an ordering cycle (hence a second unit)"
else
    fail "expected an ordering cycle from a kube-mode drop-in on kubeip.service, got:"$'\n'"$out"
fi
rm -r "$R/etc/systemd/system/kubeip.service.d"

# --- systemd-analyze security ------------------------------------------------
security() { # security <unit file>
    local unit=$1 name sec exposure
    name=$(basename "$unit")
    sec=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1)
    exposure=$(sed -n "s/.*Overall exposure level for ${name//./\\.}: \([0-9][0-9]*\.[0-9]\).*/\1/p" <<<"$sec")
    if [[ -z "$exposure" ]]; then
        fail "systemd-analyze security $name: no overall exposure line in:"$'\n'"$sec"
    elif awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
        ok "systemd-analyze security --offline=true $name: exposure $exposure <= $MAX_EXPOSURE"
    else
        fail "systemd-analyze security --offline=true $name: exposure $exposure > $MAX_EXPOSURE"
        grep '✗' <<<"$sec"
    fi
}
security "$HOST_UNIT"
security "$NODE_UNIT"

# --- settings the daemon and the package rely on -----------------------------
# The effective value of each key in $UNIT: the last assignment wins.
value() { sed -n "s/^$1=//p" "$UNIT" | tail -n 1; }
expect() { # expect <key> <value> <why>
    local got
    got=$(value "$1")
    if [[ "$got" == "$2" ]]; then ok "$unit_name: $1=$2 ($3)"; else fail "$unit_name: $1 is '$got', expected '$2' ($3)"; fi
}
has_line() { # has_line <regex> <what>
    if grep -q "$1" "$UNIT"; then ok "$unit_name: $2"; else fail "$unit_name: $2 missing"; fi
}

UNIT=$HOST_UNIT unit_name=kubeip.service
expect Type notify "READY=1 only once the address is held"
expect NotifyAccess main "only the daemon may notify"
expect ExecStart "/usr/bin/kubeip run" "the packaged binary"
expect ExecReload '/bin/kill -HUP $MAINPID' "SIGHUP re-reads settings"
expect Restart on-failure "crashes are restarted"
expect TimeoutStartSec infinity "an empty pool does not fail the boot"
expect User kubeip "a static unprivileged system user"
expect Group kubeip "its own group"
expect NoNewPrivileges yes "no privilege gain"
expect StateDirectory kubeip "state.json"
expect RuntimeDirectory kubeip "kubeip.lock"
expect ConfigurationDirectory kubeip "/etc/kubeip"
expect CapabilityBoundingSet "" "no capability"
expect RestrictAddressFamilies "AF_UNIX AF_INET AF_INET6" "HTTPS, sd_notify, system bus"
expect WantedBy multi-user.target "enabled at boot"
if [[ " $(value RestartPreventExitStatus) " == *" 78 "* ]]; then
    ok "$unit_name: RestartPreventExitStatus includes 78 (a bad config does not loop)"
else
    fail "$unit_name: RestartPreventExitStatus must include 78"
fi
if [[ -n "$(value WatchdogSec)" ]]; then ok "$unit_name: WatchdogSec=$(value WatchdogSec)"; else fail "$unit_name: WatchdogSec missing"; fi
has_line '^After=.*network-online\.target' "After=network-online.target"
has_line '^Wants=.*network-online\.target' "Wants=network-online.target"
has_line '^Before=.*kubelet\.service' "Before=kubelet.service"
has_line '^#LoadCredential=' "commented LoadCredential= example"

# --- kubeip-node.service ---------------------------------------------------------
UNIT=$NODE_UNIT unit_name=kubeip-node.service
expect Type notify "READY=1 once the address is held and the Node reports it"
expect ExecStart "/usr/bin/kubeip run" "the packaged binary"
expect Restart on-failure "crashes are restarted"
expect TimeoutStartSec infinity "an empty pool waits, it does not fail"
expect LoadCredential "kubeconfig:/etc/kubeip/kubeconfig" "the kubeip ServiceAccount's kubeconfig, root-only on disk"
expect WantedBy multi-user.target "started at boot once the image enables it"
has_line '^After=.*kubelet\.service' "After=kubelet.service (kubelet registers the Node)"
has_line '^Conflicts=.*kubeip\.service' "Conflicts=kubeip.service (one mode at a time)"
has_line '^After=.*kubeip\.service' "After=kubeip.service (the conflicting unit stops before this one starts)"
has_line '^After=.*network-online\.target' "After=network-online.target"
has_line '^Wants=.*network-online\.target' "Wants=network-online.target"
has_line '^After=.*dbus\.service' "After=dbus.service (the bus outlives it at shutdown)"
if grep -q '^Before=' "$UNIT"; then
    fail "$unit_name: has a Before= line; nothing may wait for kube mode"
else
    ok "$unit_name: no Before= (kubelet does not wait for it; the startup taint keeps pods off)"
fi
envs=$(sed -n 's/^Environment=//p' "$UNIT")
for e in MODE=kube LEASE_NAMESPACE=kube-system 'KUBECONFIG=%d/kubeconfig' KUBEIP_CONFIG=/etc/kubeip/kubeip.yaml; do
    if grep -qxF -- "$e" <<<"$envs"; then ok "$unit_name: Environment=$e"; else fail "$unit_name: no Environment=$e"; fi
done
# Only these names: the rest (node-name, taint-key, filter) belongs in
# /etc/kubeip/conf.d/ on the image.
while IFS= read -r e; do
    case ${e%%=*} in
    MODE | LEASE_NAMESPACE | KUBECONFIG | KUBEIP_CONFIG) ;;
    *) fail "$unit_name: unexpected Environment=$e" ;;
    esac
done <<<"$envs"
# The same hardening: every identity, directory, sandbox and lifecycle line
# of kubeip.service's [Service] section, verbatim.
same=0 missing=0
while IFS= read -r line; do
    if grep -qxF -- "$line" "$NODE_UNIT"; then
        same=$((same + 1))
    else
        missing=$((missing + 1))
        fail "$unit_name: lacks '$line' of kubeip.service"
    fi
done < <(sed -n '/^\[Service\]/,/^\[Install\]/p' "$HOST_UNIT" |
    grep -E '^(NotifyAccess|ExecReload|TimeoutStopSec|WatchdogSec|RestartSec|RestartPreventExitStatus|User|Group|UMask|StateDirectory|StateDirectoryMode|RuntimeDirectory|RuntimeDirectoryMode|ConfigurationDirectory|ConfigurationDirectoryMode|CapabilityBoundingSet|AmbientCapabilities|NoNewPrivileges|PrivateUsers|Restrict[A-Za-z]*|LockPersonality|MemoryDenyWriteExecute|SystemCall[A-Za-z]*|Protect[A-Za-z]*|Private[A-Za-z]*|DevicePolicy|ProcSubset|KeyringMode|RemoveIPC)=')
if ((missing == 0 && same >= 40)); then
    ok "$unit_name: all $same identity, sandbox and lifecycle lines of kubeip.service"
elif ((missing == 0)); then
    fail "$unit_name: only $same sandbox lines compared; the list above no longer matches kubeip.service"
fi

echo
echo "$passed passed, $failed failed"
((failed == 0))
