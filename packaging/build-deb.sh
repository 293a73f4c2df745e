#!/usr/bin/env bash
# Build the kubeip Debian package from a clone of the repository.
#
#   packaging/build-deb.sh            # swift build, then dpkg-buildpackage
#   KUBEIP_BINARY=/path/to/kubeip packaging/build-deb.sh
#                                     # package an already built binary
#
# Steps: build the release binary with the Swift standard library linked in
# statically; generate the man page, the shell completions and the commented
# configuration file from that binary; run `dpkg-buildpackage -us -uc -b` in
# a temporary copy of debian/ (the work tree is left as it was); move the
# .deb, .buildinfo and .changes files to dist/.
#
# Works from any directory. Output directory: $KUBEIP_DIST (default dist/ in
# the repository).
set -euo pipefail

say() { printf 'build-deb: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST=${KUBEIP_DIST:-$ROOT/dist}

# --- tools -------------------------------------------------------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 ($2)"); }
need dpkg-buildpackage dpkg-dev
need dpkg-parsechangelog dpkg-dev
need dh debhelper
need readelf binutils
need sed sed
if [[ -z "${KUBEIP_BINARY:-}" ]]; then
    need swift "the Swift toolchain, on PATH"
fi
if ((${#missing[@]})); then
    say "missing tools:"
    for m in "${missing[@]}"; do say "  - $m"; done
    die "install them (apt-get install dpkg-dev debhelper binutils) and run again"
fi
dpkg-checkbuilddeps -d 'debhelper-compat (= 13)' /dev/null 2>/dev/null \
    || die "debhelper >= 13 is required (apt-get install debhelper)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubeip-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- the binary --------------------------------------------------------------
if [[ -n "${KUBEIP_BINARY:-}" ]]; then
    BIN=$(readlink -f "$KUBEIP_BINARY")
    [[ -x "$BIN" ]] || die "KUBEIP_BINARY=$KUBEIP_BINARY is not an executable file"
    say "using prebuilt binary $BIN"
else
    say "swift build -c release --static-swift-stdlib --product kubeip"
    (cd "$ROOT" && swift build -c release --static-swift-stdlib --product kubeip)
    BIN="$(cd "$ROOT" && swift build -c release --static-swift-stdlib --show-bin-path)/kubeip"
    [[ -x "$BIN" ]] || die "swift build did not produce $BIN"
fi
if readelf -d "$BIN" 2>/dev/null | grep -q 'NEEDED.*libswift'; then
    die "$BIN links the Swift runtime dynamically; build it with --static-swift-stdlib"
fi

# --- versions ----------------------------------------------------------------
DEB_VERSION=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
UPSTREAM=${DEB_VERSION#*:}
UPSTREAM=${UPSTREAM%-*}
DEB_DATE=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Date)
MAN_DATE=$(LC_ALL=C date -u -d "$DEB_DATE" +%Y-%m-%d)

out=$("$BIN" version) || die "'kubeip version' failed"
BIN_VERSION=${out#kubeip }
[[ "$out" == "kubeip $BIN_VERSION" && -n "$BIN_VERSION" ]] \
    || die "'kubeip version' printed '$out', expected 'kubeip <version>'"
[[ "$BIN_VERSION" == "$UPSTREAM" ]] \
    || die "the binary is version $BIN_VERSION but debian/changelog says $DEB_VERSION; add a changelog entry"
say "kubeip $BIN_VERSION, package version $DEB_VERSION"

# --- generated files ---------------------------------------------------------
SRC="$WORK/kubeip-$UPSTREAM"
STAGE="$SRC/.build/deb-staging"
mkdir -p "$STAGE"
install -m 0755 "$BIN" "$STAGE/kubeip"

gen() { # gen <file> <kubeip arguments...>
    local file=$1; shift
    "$BIN" "$@" >"$STAGE/$file" || die "'kubeip $*' failed"
    [[ -s "$STAGE/$file" ]] || die "'kubeip $*' printed nothing"
}
gen kubeip.bash --generate-completion-script bash
# Completions are sourced, not run: drop the generator's '#!/bin/bash' line (lintian
# bash-completion-with-hashbang).
sed -i '1{/^#!/d}' "$STAGE/kubeip.bash"
gen _kubeip     --generate-completion-script zsh
gen kubeip.fish --generate-completion-script fish
gen kubeip.yaml settings --format yaml
gen settings.man settings --format man

grep -Eq '^release-on-exit:[[:space:]]*"?shutdown"?[[:space:]]*(#.*)?$' "$STAGE/kubeip.yaml" \
    || die "'kubeip settings --format yaml' must set 'release-on-exit: shutdown' (the packaged default)"
grep -q '^\.SH' "$STAGE/settings.man" \
    || die "'kubeip settings --format man' must start a man section (.SH SETTINGS)"
[[ $(grep -c '^@SETTINGS@$' "$ROOT/packaging/kubeip.8.in") == 1 ]] \
    || die "packaging/kubeip.8.in must hold exactly one @SETTINGS@ line"
sed -e "s/@VERSION@/$BIN_VERSION/g" -e "s/@DATE@/$MAN_DATE/g" \
    -e "/^@SETTINGS@\$/{r $STAGE/settings.man" -e 'd}' \
    "$ROOT/packaging/kubeip.8.in" >"$STAGE/kubeip.8"
rm "$STAGE/settings.man"
if command -v man >/dev/null 2>&1; then
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$STAGE/kubeip.8" 2>&1 >/dev/null || true)
    [[ -z "$warnings" ]] || die "the generated man page has warnings:"$'\n'"$warnings"
fi

# --- package -----------------------------------------------------------------
# debian/kubeip.service is a symlink into systemd/: copy what it points at.
cp -rL "$ROOT/debian" "$SRC/debian"
say "dpkg-buildpackage -us -uc -b"
(cd "$SRC" && KUBEIP_STAGING=.build/deb-staging dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1 || {
    tail -n 40 "$WORK/build.log" >&2
    die "dpkg-buildpackage failed (last lines above)"
}

mkdir -p "$DIST"
shopt -s nullglob
produced=("$WORK"/*.deb "$WORK"/*.ddeb "$WORK"/*.buildinfo "$WORK"/*.changes)
((${#produced[@]})) || die "dpkg-buildpackage produced nothing"
for f in "${produced[@]}"; do
    mv -f "$f" "$DIST/"
    say "wrote ${DIST}/$(basename "$f")"
done
