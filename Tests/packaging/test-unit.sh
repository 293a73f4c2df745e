#!/usr/bin/env bash
# Checks systemd/kubeip.service without installing anything on this machine:
#   - `systemd-analyze verify` passes with no output at all, against a
#     throwaway root holding stub /usr/bin/kubeip and /bin/kill and the host's
#     unit files, with MANPATH pointing at the man page rendered from
#     packaging/kubeip.8.in (so the Documentation= check runs too);
#   - `systemd-analyze security --offline=true` rates the exposure <= 1.2;
#   - the settings the packaging and the daemon rely on are present;
#   - the man page template renders without groff warnings.
# Usage: Tests/packaging/test-unit.sh      (exit status 0 = all passed)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
UNIT="$ROOT/systemd/kubeip.service"
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
cp -a /lib/systemd/system "$R/usr/lib/systemd/system"
cp "$UNIT" "$R/etc/systemd/system/kubeip.service"
out=$(MANPATH="$WORK/man" systemd-analyze verify --root="$R" kubeip.service 2>&1)
rc=$?
if [[ $rc == 0 && -z "$out" ]]; then
    ok "systemd-analyze verify: no warning"
else
    fail "systemd-analyze verify (exit $rc):"$'\n'"$out"
fi

# --- systemd-analyze security ------------------------------------------------
sec=$(systemd-analyze security --offline=true --no-pager "$UNIT" 2>&1)
exposure=$(sed -n 's/.*Overall exposure level for kubeip\.service: \([0-9][0-9]*\.[0-9]\).*/\1/p' <<<"$sec")
if [[ -z "$exposure" ]]; then
    fail "systemd-analyze security: no overall exposure line in:"$'\n'"$sec"
elif awk -v e="$exposure" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e <= m) }'; then
    ok "systemd-analyze security --offline=true: exposure $exposure <= $MAX_EXPOSURE"
else
    fail "systemd-analyze security --offline=true: exposure $exposure > $MAX_EXPOSURE"
    grep '✗' <<<"$sec"
fi

# --- settings the daemon and the package rely on -----------------------------
# The effective value of each key: the last assignment in the file wins.
value() { sed -n "s/^$1=//p" "$UNIT" | tail -n 1; }
expect() { # expect <key> <value> <why>
    local got
    got=$(value "$1")
    if [[ "$got" == "$2" ]]; then ok "$1=$2 ($3)"; else fail "$1 is '$got', expected '$2' ($3)"; fi
}
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
    ok "RestartPreventExitStatus includes 78 (a bad config does not loop)"
else
    fail "RestartPreventExitStatus must include 78"
fi
if [[ -n "$(value WatchdogSec)" ]]; then ok "WatchdogSec=$(value WatchdogSec)"; else fail "WatchdogSec missing"; fi
for dep in After Wants; do
    if grep -q "^$dep=.*network-online\.target" "$UNIT"; then
        ok "$dep=network-online.target"
    else
        fail "$dep= lacks network-online.target"
    fi
done
if grep -q '^Before=.*kubelet\.service' "$UNIT"; then ok "Before=kubelet.service"; else fail "Before=kubelet.service missing"; fi
if grep -q '^#LoadCredential=' "$UNIT"; then ok "commented LoadCredential= example"; else fail "no LoadCredential= example"; fi

echo
echo "$passed passed, $failed failed"
((failed == 0))
