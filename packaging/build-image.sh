#!/usr/bin/env bash
# Build the kubeip OCI image from the Debian package, with no container engine
# and no registry.
#
#   packaging/build-image.sh                     # the newest dist/kubeip_*_<arch>.deb
#   packaging/build-image.sh --deb dist/kubeip_0.1.0-1_amd64.deb
#
# Output: dist/kubeip_<version>_<arch>.oci.tar, an OCI image layout in a tar
# (skopeo's oci-archive: transport), tagged <version> and named
# localhost/kubeip:<version> for containerd (`ctr images import`,
# `kind load image-archive`). Push it with
#   skopeo copy oci-archive:dist/kubeip_0.1.0_amd64.oci.tar docker://REGISTRY/kubeip:0.1.0
#
# What is in it: two layers, no shell, no package manager.
#   1. runtime: the Debian bookworm packages the .deb's Depends: name (the
#      shared libraries and ca-certificates' certificates, with their
#      copyright files), unpacked with dpkg-deb; the CA bundle that
#      update-ca-certificates would make; /etc/passwd and /etc/group with the
#      kubeip user (uid and gid 65532); bookworm's os-release; a record of
#      each package in /var/lib/dpkg/status.d/ for image scanners.
#      Not taken: systemd (the .deb needs it only for systemd-sysusers) and
#      procps (kill(1) for the unit's ExecReload=); ca-certificates' own
#      dependencies (openssl, debconf: its postinst only), documentation,
#      man pages, locales, gconv modules.
#   2. kubeip: the .deb's files a container uses (/usr/bin/kubeip,
#      /etc/kubeip/, the copyright file), its status.d record, and
#      /var/lib/kubeip and /run/kubeip owned by kubeip (mount volumes there
#      when the root file system is read-only).
# Config: entrypoint ["/usr/bin/kubeip", "run"] (exec form), user
# 65532:65532, port 9808/tcp, the org.opencontainers.image.* labels (also as
# manifest annotations). Every file time, the config's and the history's
# times are the .deb's build time (its SOURCE_DATE_EPOCH), so the same .deb
# and the same Debian packages give the same image digest.
#
# Options:
#   --deb PATH        the kubeip .deb (default: the newest dist/kubeip_*_<arch>.deb)
#   --out DIR         output directory (default: $KUBEIP_DIST, else dist/)
#   --name NAME       image name recorded for containerd (default: localhost/kubeip)
#   --mirror URL      Debian mirror for bookworm (default: this machine's apt
#                     source for bookworm, else http://deb.debian.org/debian)
#   --security-mirror URL   (default: this machine's, else http://deb.debian.org/debian-security)
#   --source URL      org.opencontainers.image.source (default: $KUBEIP_IMAGE_SOURCE)
# Needs root (file ownership in the layers), apt-get, dpkg-deb, umoci and
# python3; downloads the Debian packages (cached in .build-image/ in the
# repository).
set -euo pipefail

say() { printf 'build-image: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST=${KUBEIP_DIST:-$ROOT/dist}
CACHE="$ROOT/.build-image"
IMAGE_UID=65532
IMAGE_GID=65532
METRICS_PORT=9808
SUITE=bookworm

DEB= NAME=localhost/kubeip MIRROR= SECURITY_MIRROR=
SOURCE=${KUBEIP_IMAGE_SOURCE:-https://example.org/kubeip}
while (($#)); do
    case $1 in
    --deb) DEB=${2:?--deb needs a path}; shift ;;
    --out) DIST=${2:?--out needs a directory}; shift ;;
    --name) NAME=${2:?--name needs a name}; shift ;;
    --mirror) MIRROR=${2:?--mirror needs a URL}; shift ;;
    --security-mirror) SECURITY_MIRROR=${2:?--security-mirror needs a URL}; shift ;;
    --source) SOURCE=${2:?--source needs a URL}; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
    esac
    shift
done

# --- tools -------------------------------------------------------------------
missing=()
for tool in apt-get apt-cache dpkg-deb dpkg umoci python3 tar; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
((${#missing[@]} == 0)) || die "missing tools: ${missing[*]} (apt-get install umoci python3)"
[[ $(id -u) == 0 ]] || die "must run as root: the layers record file owners (root, and kubeip for its state directories)"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -s $KEYRING ]] || die "$KEYRING is missing (apt-get install debian-archive-keyring)"

if [[ -z $DEB ]]; then
    host_arch=$(dpkg --print-architecture)
    DEB=$(ls -t "$ROOT"/dist/kubeip_*_"$host_arch".deb 2>/dev/null | head -n 1 || true)
    [[ -n $DEB ]] || die "no dist/kubeip_*_$host_arch.deb: run packaging/build-deb.sh first, or give --deb"
fi
DEB=$(readlink -f "$DEB")
[[ -f $DEB ]] || die "$DEB: no such file"
[[ $(dpkg-deb -f "$DEB" Package) == kubeip ]] || die "$DEB is not the kubeip package"

DEB_VERSION=$(dpkg-deb -f "$DEB" Version)
VERSION=${DEB_VERSION#*:}
VERSION=${VERSION%-*}
DEB_ARCH=$(dpkg-deb -f "$DEB" Architecture)
case $DEB_ARCH in
amd64 | arm64 | s390x | riscv64) OCI_ARCH=$DEB_ARCH ;;
ppc64el) OCI_ARCH=ppc64le ;;
i386) OCI_ARCH=386 ;;
*) die "no OCI architecture known for Debian architecture $DEB_ARCH" ;;
esac
TAG=$VERSION
OUT="$DIST/kubeip_${VERSION}_${DEB_ARCH}.oci.tar"
say "kubeip $DEB_VERSION ($DEB_ARCH) from $DEB"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubeip-image.XXXXXX")
trap 'rm -rf --one-file-system "$WORK"' EXIT
BASE="$WORK/base"   # layer 1
APP="$WORK/app"     # layer 2
mkdir -p "$BASE" "$APP"

# --- the package ---------------------------------------------------------------
dpkg-deb -x "$DEB" "$WORK/deb"
[[ -x $WORK/deb/usr/bin/kubeip ]] || die "$DEB has no /usr/bin/kubeip"
# dpkg-buildpackage clamps file times to the changelog date: the build time.
EPOCH=${SOURCE_DATE_EPOCH:-$(stat -c %Y "$WORK/deb/usr/bin/kubeip")}
CREATED=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)
LICENSE=$(sed -n 's/^License: *//p' "$WORK/deb/usr/share/doc/kubeip/copyright" | head -n 1)
[[ -n $LICENSE ]] || die "no License: in the package's copyright file"
DESCRIPTION=$(dpkg-deb -f "$DEB" Description | head -n 1)

# Depends: minus what only the host service needs. Each group's first
# alternative (version constraints are met by bookworm itself, checked below).
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
HOST_ONLY=" systemd systemd-standalone-sysusers systemd-sysusers procps "
LIBS=() CA=
while IFS= read -r group; do
    [[ -n $group ]] || continue
    skip=0
    for alt in ${group//|/ }; do
        [[ $alt == \(* || $alt == *\) ]] && continue
        [[ $HOST_ONLY == *" ${alt%%:*} "* ]] && skip=1
    done
    ((skip)) && continue
    first=$(sed -E 's/^[[:space:]]*([^[:space:]|(]+).*/\1/' <<<"$group")
    first=${first%%:*}
    if [[ $first == ca-certificates ]]; then CA=$first; else LIBS+=("$first"); fi
done < <(tr ',' '\n' <<<"$DEPENDS")
((${#LIBS[@]})) || die "no library dependencies found in Depends: $DEPENDS"
[[ -n $CA ]] || die "the package does not depend on ca-certificates; where do the CA certificates come from?"

# --- a private apt: bookworm, nothing installed --------------------------------
# shellcheck source=packaging/apt-sources.sh
. "$ROOT/packaging/apt-sources.sh"
[[ -n $MIRROR ]] || MIRROR=$(apt_source_uri "$SUITE")
[[ -n $MIRROR ]] || MIRROR=http://deb.debian.org/debian
[[ -n $SECURITY_MIRROR ]] || SECURITY_MIRROR=$(apt_source_uri "$SUITE-security")
[[ -n $SECURITY_MIRROR ]] || SECURITY_MIRROR=http://deb.debian.org/debian-security

A="$CACHE/apt-$DEB_ARCH"
mkdir -p "$A/lists/partial" "$A/archives/partial" "$A/etc/apt.conf.d" "$A/etc/preferences.d"
: >"$A/status"
cat >"$A/etc/sources.list" <<EOF
deb [signed-by=$KEYRING] $MIRROR $SUITE main
deb [signed-by=$KEYRING] $MIRROR $SUITE-updates main
deb [signed-by=$KEYRING] $SECURITY_MIRROR $SUITE-security main
EOF
apt_opts=(
    -o "Dir::State=$A" -o "Dir::State::Lists=$A/lists" -o "Dir::State::status=$A/status"
    -o "Dir::Cache=$A" -o "Dir::Cache::archives=$A/archives"
    -o "Dir::Etc::SourceList=$A/etc/sources.list" -o "Dir::Etc::SourceParts=$A/etc/sources.list.d"
    -o "Dir::Etc::Parts=$A/etc/apt.conf.d" -o "Dir::Etc::PreferencesParts=$A/etc/preferences.d"
    -o "Dir::Etc::Preferences=$A/etc/preferences" -o "Dir::Etc::Trusted=$A/etc/trusted.gpg"
    -o "Dir::Etc::TrustedParts=$A/etc/trusted.gpg.d"
    -o "APT::Architecture=$DEB_ARCH" -o "APT::Architectures::=$DEB_ARCH"
    -o Acquire::Languages=none -o APT::Install-Recommends=false -o APT::Install-Suggests=false
    -o Debug::NoLocking=true -o APT::Sandbox::User=root -o quiet=1
)
apt() { apt-get "${apt_opts[@]}" "$@"; }
say "apt-get update ($SUITE from $MIRROR, $SECURITY_MIRROR)"
apt update >"$WORK/apt-update.log" 2>&1 || { tail -n 20 "$WORK/apt-update.log" >&2; die "apt-get update failed"; }

# The closure of the libraries over an empty system: what apt would install.
apt -s install "${LIBS[@]}" >"$WORK/plan" 2>&1 || { cat "$WORK/plan" >&2; die "cannot resolve ${LIBS[*]}"; }
mapfile -t PKGS < <(sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p' "$WORK/plan")
((${#PKGS[@]})) || die "apt planned nothing for ${LIBS[*]}"
apt -y install --download-only "${LIBS[@]}" >"$WORK/download.log" 2>&1 ||
    { tail -n 20 "$WORK/download.log" >&2; die "downloading the libraries failed"; }
# ca-certificates and base-files alone, without their dependencies.
mkdir -p "$WORK/single"
(cd "$WORK/single" && apt download "$CA" base-files >"$WORK/single.log" 2>&1) ||
    { cat "$WORK/single.log" >&2; die "downloading $CA and base-files failed"; }

debfile() { # debfile <name>=<version>: the downloaded .deb
    local name=${1%%=*} version=${1#*=} f
    for f in "$A/archives/${name}_${version//:/%3a}_"*.deb; do
        [[ -f $f ]] && { echo "$f"; return; }
    done
    die "no downloaded .deb for $1"
}
DEBS=()
for p in "${PKGS[@]}"; do DEBS+=("$(debfile "$p")"); done
CA_DEB=$(ls "$WORK"/single/"${CA}"_*.deb)
BASE_FILES_DEB=$(ls "$WORK"/single/base-files_*.deb)

# Every versioned dependency of the .deb is met by what goes in.
while IFS= read -r group; do
    rel=$(sed -nE 's/^[[:space:]]*([^[:space:]|(:]+)[^(|]*\(([<>=]+)[[:space:]]*([^)]+)\).*/\1 \2 \3/p' <<<"$group")
    [[ -n $rel ]] || continue
    read -r name op want <<<"$rel"
    [[ $HOST_ONLY == *" $name "* ]] && continue
    have=$(printf '%s\n' "${PKGS[@]}" | sed -n "s/^$name=//p")
    [[ -n $have ]] || die "Depends names $name ($op $want), which apt did not plan"
    case $op in '>=') dop=ge ;; '<=') dop=le ;; '>>') dop=gt ;; '<<') dop=lt ;; '=') dop=eq ;; *) die "unknown relation $op" ;; esac
    dpkg --compare-versions "$have" "$dop" "$want" || die "$name $have does not satisfy ($op $want)"
done < <(tr ',' '\n' <<<"$DEPENDS")

# --- layer 1: the runtime --------------------------------------------------------
STATUS_D="$BASE/var/lib/dpkg/status.d"
mkdir -p "$STATUS_D"
record() { # record <deb> <root>: the package's control paragraph, for scanners
    local pkg
    pkg=$(dpkg-deb -f "$1" Package)
    mkdir -p "$2/var/lib/dpkg/status.d"
    dpkg-deb -f "$1" >"$2/var/lib/dpkg/status.d/$pkg"
}
for d in "${DEBS[@]}" "$CA_DEB"; do
    dpkg-deb -x "$d" "$BASE"
    record "$d" "$BASE"
done
# os-release only (image scanners and systemd-nspawn look for it).
dpkg-deb --fsys-tarfile "$BASE_FILES_DEB" | tar -x -C "$BASE" ./usr/lib/os-release ./etc/os-release
[[ -s $BASE/usr/lib/os-release && -L $BASE/etc/os-release ]] || die "base-files has no os-release"

# What a daemon that execs nothing does not use.
rm -rf "$BASE"/usr/share/{man,info,locale,lintian,bug,doc-base,gdb,gcc,bash-completion} \
    "$BASE"/usr/lib/*/gconv "$BASE"/usr/sbin/update-ca-certificates "$BASE"/etc/ca-certificates \
    "$BASE"/usr/share/libgcrypt20 \
    "$BASE"/usr/share/ca-certificates/mozilla/.keep
find "$BASE/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -exec rm -f {} +
find "$BASE/usr/share/doc" -mindepth 1 -type d -empty -delete
find "$BASE/usr/sbin" "$BASE/usr/bin" "$BASE/sbin" "$BASE/bin" -mindepth 0 -maxdepth 0 -type d -empty -delete 2>/dev/null || true

# The CA bundle, as update-ca-certificates makes it: every certificate of
# the package, in name order, each ending in a newline.
mkdir -p "$BASE/etc/ssl/certs"
find "$BASE/usr/share/ca-certificates" -name '*.crt' -type f | LC_ALL=C sort |
    while IFS= read -r crt; do sed -e '$a\' "$crt"; done >"$BASE/etc/ssl/certs/ca-certificates.crt"
ncerts=$(grep -c 'BEGIN CERTIFICATE' "$BASE/etc/ssl/certs/ca-certificates.crt")
((ncerts > 100)) || die "only $ncerts certificates in the CA bundle"

cat >"$BASE/etc/passwd" <<EOF
root:x:0:0:root:/root:/usr/sbin/nologin
kubeip:x:$IMAGE_UID:$IMAGE_GID:kubeip daemon:/var/lib/kubeip:/usr/sbin/nologin
EOF
cat >"$BASE/etc/group" <<EOF
root:x:0:
kubeip:x:$IMAGE_GID:
EOF
cat >"$BASE/etc/nsswitch.conf" <<'EOF'
passwd: files
group:  files
hosts:  files dns
EOF
# Mount points a runtime expects (it cannot make them on a read-only root).
mkdir -p "$BASE"/{proc,sys,dev,run,tmp,root}
chmod 1777 "$BASE/tmp"
chmod 0700 "$BASE/root"

# --- layer 2: kubeip ---------------------------------------------------------------
install -D -m 0755 "$WORK/deb/usr/bin/kubeip" "$APP/usr/bin/kubeip"
cp -a "$WORK/deb/etc" "$APP/etc"
install -D -m 0644 "$WORK/deb/usr/share/doc/kubeip/copyright" "$APP/usr/share/doc/kubeip/copyright"
record "$DEB" "$APP"
install -d -m 0700 -o "$IMAGE_UID" -g "$IMAGE_GID" "$APP/var/lib/kubeip" "$APP/run/kubeip"
# Parent directories as in layer 1 (a layer's entries replace their metadata).
chmod 0755 "$APP" "$APP/usr" "$APP/usr/bin" "$APP/var" "$APP/var/lib" "$APP/run"

# Fixed times everywhere.
find "$BASE" "$APP" -exec touch -h -d "@$EPOCH" {} +

# --- the image -----------------------------------------------------------------------
L="$WORK/layout"
pkgs_list=$(printf '%s\n' "${PKGS[@]}" "$CA=$(dpkg-deb -f "$CA_DEB" Version)" | LC_ALL=C sort | paste -sd ' ')
umoci init --layout "$L"
umoci new --image "$L:$TAG"
umoci insert --image "$L:$TAG" --history.created "$CREATED" --history.author "kubeip build-image.sh" \
    --history.created_by "runtime: Debian $SUITE $pkgs_list" "$BASE" /
umoci insert --image "$L:$TAG" --history.created "$CREATED" --history.author "kubeip build-image.sh" \
    --history.created_by "kubeip: $(basename "$DEB")" "$APP" /

labels=(
    "org.opencontainers.image.title=kubeip"
    "org.opencontainers.image.description=$DESCRIPTION"
    "org.opencontainers.image.version=$VERSION"
    "org.opencontainers.image.source=$SOURCE"
    "org.opencontainers.image.licenses=$LICENSE"
    "org.opencontainers.image.created=$CREATED"
)
config=(
    --config.entrypoint /usr/bin/kubeip --config.entrypoint run
    --clear config.cmd --clear config.env
    --config.env PATH=/usr/bin
    --config.user "$IMAGE_UID:$IMAGE_GID"
    --config.workingdir /
    --config.exposedports "$METRICS_PORT/tcp"
    --config.stopsignal SIGTERM
    --architecture "$OCI_ARCH" --os linux
    --created "$CREATED" --author "kubeip developers"
    --history.created "$CREATED" --history.author "kubeip build-image.sh"
    --history.created_by "config: entrypoint [\"/usr/bin/kubeip\",\"run\"], user $IMAGE_UID:$IMAGE_GID"
)
for l in "${labels[@]}"; do config+=(--config.label "$l" --manifest.annotation "$l"); done
umoci config --image "$L:$TAG" "${config[@]}"
umoci gc --layout "$L"

# Name it for containerd as `ctr export` would (io.containerd.image.name),
# beside the OCI tag (org.opencontainers.image.ref.name).
python3 - "$L/index.json" "$NAME:$TAG" "$TAG" <<'EOF'
import json, sys
path, name, tag = sys.argv[1:]
with open(path) as f:
    index = json.load(f)
manifests = index["manifests"]
assert len(manifests) == 1, manifests
manifests[0].setdefault("annotations", {}).update({
    "io.containerd.image.name": name,
    "org.opencontainers.image.ref.name": tag,
})
with open(path, "w") as f:
    json.dump(index, f, sort_keys=True, separators=(",", ":"))
EOF
chmod -R u=rwX,go=rX "$L"
find "$L" -exec touch -h -d "@$EPOCH" {} +

mkdir -p "$DIST"
tar --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$L" -cf "$OUT.tmp" oci-layout index.json blobs
mv -f "$OUT.tmp" "$OUT"

digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$L/index.json")
say "$((${#PKGS[@]} + 1)) Debian packages, $ncerts CA certificates; manifest $digest"
say "wrote $OUT ($(du -h "$OUT" | cut -f1)), $NAME:$TAG"
