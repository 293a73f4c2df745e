#!/usr/bin/env bash
# Checks a built kubeip .deb:
#   1. lintian: no error and no warning (overrides need a comment in
#      debian/kubeip.lintian-overrides);
#   2. in a clean Debian bookworm chroot (debootstrap --variant=minbase, cached
#      as a tarball and reused): `apt-get install ./kubeip.deb` resolves the
#      dependencies from the mirror; the files and the enable symlink are in
#      place (kubeip-node.service installed, not enabled); `kubeip version`,
#      `kubeip demo` and
#      `kubeip check --cloud simulated` succeed;
#   3. a locally modified /etc/kubeip/kubeip.yaml survives a reinstall of the
#      same .deb and an upgrade to a copy of it repacked as <version>+1;
#   4. `apt-get purge kubeip` removes /etc/kubeip, /var/lib/kubeip (seeded
#      with a state file, as the daemon leaves it) and the enable symlinks
#      (kubeip-node.service enabled by hand beforehand, as an image would).
#
# Usage: Tests/packaging/test-deb.sh dist/kubeip_<version>_<arch>.deb
# Needs root, debootstrap, lintian and the Debian mirror apt uses.
# Environment: see Tests/packaging/lib.sh.
set -uo pipefail

# shellcheck source=Tests/packaging/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 1)) || die "usage: $0 path/to/kubeip_<version>_<arch>.deb"
DEB=$(readlink -f "$1")
[[ -f "$DEB" ]] || die "$1: no such file"
[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, chroot)"
for tool in lintian debootstrap dpkg-deb chroot tar timeout findmnt; do
    command -v "$tool" >/dev/null || die "$tool is required (apt-get install lintian debootstrap)"
done
PKG=$(dpkg-deb -f "$DEB" Package)
VERSION=$(dpkg-deb -f "$DEB" Version)
UPSTREAM=${VERSION#*:}
UPSTREAM=${UPSTREAM%-*}
[[ "$PKG" == kubeip ]] || die "$1 is package '$PKG', not kubeip"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubeip-deb-test.XXXXXX")
R="$WORK/root"
trap 'unmount_below; rm -rf --one-file-system "$WORK"' EXIT
trap 'exit 130' INT TERM

# --- 1. lintian ----------------------------------------------------------------
lint=$(lintian --pedantic --fail-on none "$DEB" 2>&1 | grep -v '^running with root privileges')
errors=$(grep -c '^E: ' <<<"$lint")
warnings=$(grep -c '^W: ' <<<"$lint")
if ((errors == 0 && warnings == 0)); then
    ok "lintian: 0 errors, 0 warnings ($(grep -c . <<<"$lint") other tags)"
    [[ -n "$lint" ]] && indent <<<"$lint"
else
    fail "lintian: $errors errors, $warnings warnings"
    indent <<<"$lint"
fi

# --- 2. a clean bookworm chroot --------------------------------------------------
make_chroot

start=$SECONDS
step "apt-get update in the chroot ($MIRROR)" "$APT update" || finish
cp "$DEB" "$R/tmp/kubeip.deb"
step "apt-get install ./kubeip.deb (dependencies from the mirror)" "cd /tmp && $APT install ./kubeip.deb" || finish
note "update and install took $((SECONDS - start))s"
step "dpkg reports $PKG $VERSION installed" \
    "test \"\$(dpkg-query -W -f '\${Status} \${Version}' kubeip)\" = 'install ok installed $VERSION'"

for f in /usr/bin/kubeip /lib/systemd/system/kubeip.service /lib/systemd/system/kubeip-node.service \
    /etc/kubeip/kubeip.yaml \
    /usr/share/man/man8/kubeip.8.gz /usr/share/bash-completion/completions/kubeip \
    /usr/share/zsh/vendor-completions/_kubeip /usr/share/fish/vendor_completions.d/kubeip.fish \
    /usr/share/doc/kubeip/copyright; do
    if [[ -s "$R$f" ]]; then ok "installed $f"; else fail "missing $f"; fi
done
if [[ -d "$R/etc/kubeip/conf.d" ]]; then ok "installed /etc/kubeip/conf.d/"; else fail "missing /etc/kubeip/conf.d/"; fi
if grep -qx /etc/kubeip/kubeip.yaml "$R/var/lib/dpkg/info/kubeip.conffiles"; then
    ok "/etc/kubeip/kubeip.yaml is a conffile"
else
    fail "/etc/kubeip/kubeip.yaml is not a conffile"
fi
step "system user kubeip exists, no login shell" \
    "getent passwd kubeip | grep -q ':/usr/sbin/nologin\$'"
WANTS=/etc/systemd/system/multi-user.target.wants/kubeip.service
if [[ -L "$R$WANTS" ]]; then ok "enabled: $WANTS"; else fail "not enabled: no $WANTS"; fi
# kube mode on a node image is the image builder's choice: installed, not enabled.
NODE_WANTS=/etc/systemd/system/multi-user.target.wants/kubeip-node.service
if [[ -e "$R$NODE_WANTS" || -L "$R$NODE_WANTS" ]]; then
    fail "kubeip-node.service is enabled on install ($NODE_WANTS)"
else
    ok "kubeip-node.service installed but not enabled"
fi

# The statically linked Swift runtime finds its own arguments through /proc
# (/proc/self/exe, /proc/self/maps): without it CommandLine.arguments is
# empty. apt and dpkg do not need it, so /proc is mounted for these commands
# only (cleanup unmounts it if they are interrupted).
mount -t proc proc "$R/proc" || die "cannot mount /proc in the chroot"
step "kubeip version prints 'kubeip $UPSTREAM'" "test \"\$(kubeip version)\" = 'kubeip $UPSTREAM'"
step "kubeip demo" "kubeip demo"
step "kubeip check --cloud simulated" "kubeip check --cloud simulated"
umount "$R/proc" || die "cannot unmount $R/proc"

# --- 3. conffile kept across reinstall and upgrade -------------------------------
CONF=/etc/kubeip/kubeip.yaml
printf '\n# changed by test-deb.sh\nlog-level: debug\n' >>"$R$CONF"
local_sum=$(sha256sum <"$R$CONF")
conffile_kept() { # conffile_kept <after what>
    if [[ "$(sha256sum <"$R$CONF")" == "$local_sum" ]]; then
        ok "modified $CONF kept after $1"
    else
        fail "modified $CONF lost after $1"
    fi
}
step "apt-get install --reinstall ./kubeip.deb" "cd /tmp && $APT install --reinstall ./kubeip.deb" && conffile_kept "a reinstall"

# The same contents as a newer version: exercises the upgrade maintainer
# scripts (dpkg --unpack over an installed version, conffile handling).
NEXT="${VERSION}+1"
mkdir "$WORK/repack"
dpkg-deb -R "$DEB" "$WORK/repack/tree"
sed -i "s/^Version: .*/Version: $NEXT/" "$WORK/repack/tree/DEBIAN/control"
dpkg-deb --root-owner-group -b "$WORK/repack/tree" "$R/tmp/kubeip-next.deb" >/dev/null
step "apt-get install ./kubeip-next.deb (upgrade $VERSION -> $NEXT)" "cd /tmp && $APT install ./kubeip-next.deb" &&
    step "dpkg reports $NEXT installed" "test \"\$(dpkg-query -W -f '\${Version}' kubeip)\" = '$NEXT'" &&
    conffile_kept "an upgrade"

# --- 4. purge --------------------------------------------------------------------
# An image that chose kube mode enables kubeip-node.service itself (systemctl
# works offline in a chroot); purge must remove that symlink too.
step "systemctl enable kubeip-node.service (as an image builder would)" \
    "systemctl enable kubeip-node.service && test -L $NODE_WANTS"
# What the daemon leaves behind: StateDirectory= owned by kubeip, a state file.
step "seed /var/lib/kubeip/state.json as the kubeip user" \
    "install -d -o kubeip -g kubeip -m 0700 /var/lib/kubeip && echo '{}' >/var/lib/kubeip/state.json && chown kubeip: /var/lib/kubeip/state.json"
step "apt-get purge kubeip" "$APT purge kubeip"
for p in /etc/kubeip /var/lib/kubeip /usr/bin/kubeip /lib/systemd/system/kubeip-node.service "$WANTS" "$NODE_WANTS"; do
    if [[ -e "$R$p" || -L "$R$p" ]]; then fail "still present after purge: $p"; else ok "gone after purge: $p"; fi
done
step "dpkg knows nothing of kubeip after purge" "! dpkg-query -W kubeip 2>/dev/null"

finish
