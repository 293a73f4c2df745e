# Shared by Tests/packaging/test-*.sh (sourced, not run).
#
# Before sourcing, set WORK (a scratch directory) and R (the chroot path).
# Environment:
#   KUBEIP_CI_CACHE    cache directory (default /var/cache/kubeip-ci)
#   KUBEIP_CI_MIRROR   Debian mirror (default: the one in this machine's apt sources)
#   KUBEIP_CMD_TIMEOUT seconds allowed for each command in the chroot (default 300)

passed=0 failed=0
ok()   { passed=$((passed + 1)); printf 'ok   %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }
note() { printf '     %s\n' "$*"; }
die()  { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 2; }
indent() { sed 's/^/     /'; }
finish() {
    echo
    echo "$passed passed, $failed failed"
    ((failed == 0))
    exit
}

CACHE=${KUBEIP_CI_CACHE:-/var/cache/kubeip-ci}
TARBALL="$CACHE/bookworm.tar"
CMD_TIMEOUT=${KUBEIP_CMD_TIMEOUT:-300}
APT='apt-get -q -y -o APT::Sandbox::User=root'

# shellcheck source=packaging/apt-sources.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../packaging/apt-sources.sh"

# The Debian mirror this machine's apt uses for bookworm.
mirror() {
    if [[ -n "${KUBEIP_CI_MIRROR:-}" ]]; then echo "$KUBEIP_CI_MIRROR"; return; fi
    local m
    m=$(apt_source_uri bookworm)
    [[ -n "$m" ]] || die "no bookworm mirror in this machine's apt sources; set KUBEIP_CI_MIRROR"
    echo "$m"
}

# Unpack a clean minbase bookworm into $R, bootstrapping and caching it as
# $TARBALL on first use. Leaves policy-rc.d (no service starts) and the
# host's resolv.conf in it.
make_chroot() {
    command -v debootstrap >/dev/null || die "debootstrap is required (apt-get install debootstrap)"
    MIRROR=$(mirror) || exit 2
    mkdir -p "$CACHE" "$R"
    if [[ ! -s "$TARBALL" ]]; then
        note "no cached chroot: debootstrap --variant=minbase bookworm from $MIRROR"
        local start=$SECONDS
        if ! debootstrap --variant=minbase bookworm "$WORK/bootstrap" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
            tail -n 20 "$WORK/debootstrap.log"
            die "debootstrap failed (log above)"
        fi
        tar -C "$WORK/bootstrap" -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
        rm -rf --one-file-system "$WORK/bootstrap"
        note "debootstrap took $((SECONDS - start))s; cached as $TARBALL"
    fi
    tar -C "$R" -xf "$TARBALL" || die "cannot unpack $TARBALL"
    printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
    chmod 0755 "$R/usr/sbin/policy-rc.d"
    cp -L /etc/resolv.conf "$R/etc/resolv.conf"
    ok "clean bookworm chroot from $TARBALL"
}

# Unmount whatever is still mounted below $R, deepest first.
unmount_below() {
    [[ -d "${R:-}" ]] || return 0
    findmnt -rn -o TARGET | grep -F "$R/" | sort -r | while read -r m; do umount -l "$m"; done
}

# in_chroot <command line>: run it with sh in the chroot, clean environment, no stdin.
in_chroot() {
    timeout "$CMD_TIMEOUT" chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/sh -c "$*" </dev/null
}

# check <description> <runner> <command line>: a checked step; the runner
# (in_chroot, in_container) runs the command line; output shown on failure.
check() {
    local what=$1 runner=$2 out rc
    shift 2
    out=$("$runner" "$@" 2>&1)
    rc=$?
    if ((rc == 0)); then ok "$what"; else fail "$what (exit $rc)"; indent <<<"$out" | tail -n 30; fi
    return $rc
}
step() { local what=$1; shift; check "$what" in_chroot "$@"; }
