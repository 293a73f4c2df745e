#!/usr/bin/env bash
# Checks the kubeip OCI image archive made by packaging/build-image.sh:
#   1. with --deb: building it again from the same .deb gives the same bytes;
#   2. skopeo reads it: exec-form entrypoint ["/usr/bin/kubeip", "run"] and
#      no Cmd, a numeric non-root user, the org.opencontainers.image.*
#      labels (version = the package's), the .deb's architecture, two gzip
#      layers within size bounds; the index names it <name>:<version> for
#      containerd;
#   3. umoci unpacks it: the runtime configuration runs the entrypoint as
#      that user; no shell, no package manager, no setuid or world-writable
#      file; the only executables are /usr/bin/kubeip and shared objects;
#      every library kubeip needs resolves inside the image (the image's own
#      ld.so); a CA bundle; package records for scanners;
#   4. runs commands from it as the image's user, with the image's root file
#      system read-only, in new pid, network and mount namespaces, as a
#      container runtime would: `kubeip version`, `--help`, `check --help`,
#      `check --cloud simulated`;
#   5. starts the entrypoint exactly as the config says, as PID 1 with no
#      shell anywhere in the image, against the simulated cloud: it holds an
#      address, keeps it on SIGTERM (release-on-exit: shutdown) and exits 0.
#
# Usage: Tests/packaging/test-image.sh [--deb dist/kubeip_<v>_<arch>.deb] dist/kubeip_<v>_<arch>.oci.tar
# Needs root (mounts, chroot), skopeo, umoci, unshare (util-linux).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubeip-image-test.XXXXXX")
R="$WORK/bundle/rootfs"
# shellcheck source=Tests/packaging/lib.sh
. "$HERE/lib.sh"

DEB= ARCHIVE=
while (($#)); do
    case $1 in
    --deb) DEB=$(readlink -f "${2:?--deb needs a path}"); shift ;;
    -*) die "unknown option $1" ;;
    *) ARCHIVE=$(readlink -f "$1") ;;
    esac
    shift
done
[[ -n $ARCHIVE ]] || die "usage: $0 [--deb kubeip.deb] kubeip_<version>_<arch>.oci.tar"
[[ -f $ARCHIVE ]] || die "$ARCHIVE: no such file"
[[ $(id -u) == 0 ]] || die "must run as root (mounts, chroot)"
for tool in skopeo umoci unshare chroot setpriv python3 timeout; do
    command -v "$tool" >/dev/null || die "$tool is required (apt-get install skopeo umoci util-linux)"
done
RUN_TIMEOUT=${KUBEIP_CMD_TIMEOUT:-60}

cleanup() {
    [[ -n ${DAEMON:-} ]] && kill -KILL "$DAEMON" 2>/dev/null
    rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

json() { # json <file> <python expression over j>: print the value
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); v = eval(sys.argv[2]); print(v if isinstance(v, str) else json.dumps(v))' "$1" "$2"
}
expect_eq() { # expect_eq <what> <got> <want>
    if [[ "$2" == "$3" ]]; then ok "$1: $2"; else fail "$1 is '$2', expected '$3'"; fi
}

# --- 1. reproducible -----------------------------------------------------------------
if [[ -n $DEB ]]; then
    VERSION=$(dpkg-deb -f "$DEB" Version); VERSION=${VERSION#*:}; VERSION=${VERSION%-*}
    DEB_ARCH=$(dpkg-deb -f "$DEB" Architecture)
    start=$SECONDS
    if "$ROOT/packaging/build-image.sh" --deb "$DEB" --out "$WORK/again" >"$WORK/again.log" 2>&1; then
        again="$WORK/again/$(basename "$ARCHIVE")"
        if [[ -f $again ]] && cmp -s "$again" "$ARCHIVE"; then
            ok "rebuilt from the same .deb: the same archive, byte for byte ($((SECONDS - start))s)"
        else
            fail "rebuilt from the same .deb: a different archive (non-reproducible build, or newer Debian packages meanwhile)"
            tail -n 3 "$WORK/again.log" | indent
        fi
    else
        fail "packaging/build-image.sh --deb $DEB failed"
        tail -n 20 "$WORK/again.log" | indent
    fi
else
    base=$(basename "$ARCHIVE" .oci.tar) # kubeip_<version>_<arch>
    VERSION=$(cut -d_ -f2 <<<"$base") DEB_ARCH=$(cut -d_ -f3 <<<"$base")
fi
case $DEB_ARCH in ppc64el) OCI_ARCH=ppc64le ;; i386) OCI_ARCH=386 ;; *) OCI_ARCH=$DEB_ARCH ;; esac
expect_eq "archive name" "$(basename "$ARCHIVE")" "kubeip_${VERSION}_${DEB_ARCH}.oci.tar"

# --- 2. what skopeo sees --------------------------------------------------------------
REF="oci-archive:$ARCHIVE"
skopeo inspect --config "$REF" >"$WORK/config.json" 2>"$WORK/skopeo.err" ||
    { fail "skopeo inspect --config $REF"; indent <"$WORK/skopeo.err"; finish; }
skopeo inspect --raw "$REF" >"$WORK/manifest.json" 2>>"$WORK/skopeo.err" ||
    { fail "skopeo inspect --raw $REF"; indent <"$WORK/skopeo.err"; finish; }
ok "skopeo reads $REF"
C="$WORK/config.json" M="$WORK/manifest.json"
expect_eq "Entrypoint (exec form)" "$(json "$C" 'j["config"].get("Entrypoint")')" '["/usr/bin/kubeip", "run"]'
expect_eq "Cmd" "$(json "$C" 'j["config"].get("Cmd")')" "null"
IMAGE_USER=$(json "$C" 'j["config"].get("User", "")')
if [[ $IMAGE_USER =~ ^([0-9]+):([0-9]+)$ ]] && ((BASH_REMATCH[1] != 0 && BASH_REMATCH[2] != 0)); then
    ok "User is numeric and not root: $IMAGE_USER"
    IMAGE_UID=${BASH_REMATCH[1]} IMAGE_GID=${BASH_REMATCH[2]}
else
    fail "User '$IMAGE_USER' is not a numeric non-root uid:gid"
    IMAGE_UID=65532 IMAGE_GID=65532
fi
expect_eq "architecture" "$(json "$C" 'j["architecture"]')" "$OCI_ARCH"
expect_eq "os" "$(json "$C" 'j["os"]')" linux
expect_eq "label org.opencontainers.image.version" "$(json "$C" 'j["config"]["Labels"].get("org.opencontainers.image.version")')" "$VERSION"
expect_eq "label org.opencontainers.image.title" "$(json "$C" 'j["config"]["Labels"].get("org.opencontainers.image.title")')" kubeip
for l in source licenses description created; do
    v=$(json "$C" "j['config']['Labels'].get('org.opencontainers.image.$l') or ''")
    if [[ -n $v ]]; then ok "label org.opencontainers.image.$l: $v"; else fail "label org.opencontainers.image.$l missing"; fi
done
expect_eq "manifest annotations = config labels" \
    "$(json "$M" 'sorted(j.get("annotations", {}).items())')" "$(json "$C" 'sorted(j["config"]["Labels"].items())')"
expect_eq "ExposedPorts" "$(json "$C" 'sorted(j["config"].get("ExposedPorts", {}))')" '["9808/tcp"]'
expect_eq "layers" "$(json "$M" 'len(j["layers"])')" 2
expect_eq "layer media types" "$(json "$M" 'sorted(set(l["mediaType"] for l in j["layers"]))')" \
    '["application/vnd.oci.image.layer.v1.tar+gzip"]'
sizes=$(json "$M" '" ".join(str(l["size"]) for l in j["layers"])')
read -r runtime_size app_size <<<"$sizes"
note "layer sizes (compressed): runtime $((runtime_size / 1024)) KiB, kubeip $((app_size / 1024)) KiB"
# Bounds that catch a shell, a package manager or systemd slipping in.
if ((runtime_size < 20 * 1024 * 1024)); then ok "runtime layer < 20 MiB compressed"; else fail "runtime layer is $((runtime_size / 1048576)) MiB compressed"; fi
if ((app_size < 15 * 1024 * 1024)); then ok "kubeip layer < 15 MiB compressed"; else fail "kubeip layer is $((app_size / 1048576)) MiB compressed"; fi
mkdir -p "$WORK/layout"
tar -xf "$ARCHIVE" -C "$WORK/layout" || die "cannot unpack $ARCHIVE"
expect_eq "index: containerd image name" \
    "$(json "$WORK/layout/index.json" 'j["manifests"][0]["annotations"].get("io.containerd.image.name")')" "localhost/kubeip:$VERSION"
expect_eq "index: OCI tag" \
    "$(json "$WORK/layout/index.json" 'j["manifests"][0]["annotations"].get("org.opencontainers.image.ref.name")')" "$VERSION"

# --- 3. the root file system ------------------------------------------------------------
if umoci unpack --image "$WORK/layout:$VERSION" "$WORK/bundle" >"$WORK/unpack.log" 2>&1; then
    ok "umoci unpack"
else
    fail "umoci unpack"; indent <"$WORK/unpack.log"; finish
fi
B="$WORK/bundle/config.json"
expect_eq "runtime config: process.args" "$(json "$B" 'j["process"]["args"]')" '["/usr/bin/kubeip", "run"]'
expect_eq "runtime config: process.user" "$(json "$B" '"%d:%d" % (j["process"]["user"]["uid"], j["process"]["user"]["gid"])')" "$IMAGE_UID:$IMAGE_GID"
note "root file system: $(du -sh "$R" | cut -f1) unpacked"
if (($(du -sm "$R" | cut -f1) < 80)); then ok "root file system < 80 MiB"; else fail "root file system is $(du -sh "$R" | cut -f1)"; fi

found=$(find "$R" ! -type d \( -name sh -o -name bash -o -name dash -o -name busybox -o -name apt -o -name apt-get \
    -o -name dpkg -o -name perl -o -name python3 \) -printf '/%P\n')
if [[ -z $found ]]; then ok "no shell, no package manager, no interpreter"; else fail "found: $found"; fi
[[ -e $R/bin/sh || -L $R/bin/sh ]] && fail "/bin/sh exists" || ok "no /bin/sh"
execs=$(find "$R" -type f -perm /111 ! -name '*.so' ! -name '*.so.*' -printf '/%P\n')
expect_eq "executables other than shared objects" "$execs" /usr/bin/kubeip
if file_type=$(head -c 4 "$R/usr/bin/kubeip" | od -An -c | tr -d ' ') && [[ $file_type == '177ELF' ]]; then
    ok "/usr/bin/kubeip is an ELF binary (no interpreter script)"
else
    fail "/usr/bin/kubeip is not an ELF binary"
fi
suid=$(find "$R" -type f -perm /6000 -printf '/%P\n')
if [[ -z $suid ]]; then ok "no setuid or setgid file"; else fail "setuid/setgid: $suid"; fi
ww=$(find "$R" -perm -0002 ! -type l ! -path "$R/tmp" -printf '/%P\n')
if [[ -z $ww ]]; then ok "nothing world-writable but /tmp"; else fail "world-writable: $ww"; fi
owned=$(find "$R" ! -uid 0 -printf '/%P %U:%G\n' | LC_ALL=C sort | paste -sd ' ')
expect_eq "files not owned by root" "$owned" "/run/kubeip $IMAGE_UID:$IMAGE_GID /var/lib/kubeip $IMAGE_UID:$IMAGE_GID"
expect_eq "passwd entry of uid $IMAGE_UID" "$(awk -F: -v u="$IMAGE_UID" '$3 == u { print $1 ":" $4 ":" $6 }' "$R/etc/passwd")" \
    "kubeip:$IMAGE_GID:/var/lib/kubeip"
# The image's own dynamic loader resolves every library (no shell needed).
libs=$(chroot "$R" /lib64/ld-linux-x86-64.so.2 --list /usr/bin/kubeip 2>&1)
if [[ $? == 0 ]] && ! grep -q 'not found' <<<"$libs"; then
    ok "ld.so in the image resolves all $(grep -c '=>' <<<"$libs") libraries of /usr/bin/kubeip"
else
    fail "libraries of /usr/bin/kubeip:"; grep 'not found' <<<"$libs" | indent
fi
ncerts=$(grep -c 'BEGIN CERTIFICATE' "$R/etc/ssl/certs/ca-certificates.crt" 2>/dev/null)
if ((${ncerts:-0} > 100)); then ok "CA bundle /etc/ssl/certs/ca-certificates.crt: $ncerts certificates"; else fail "CA bundle has ${ncerts:-no} certificates"; fi
expect_eq "os-release" "$(. "$R/usr/lib/os-release" && echo "$ID $VERSION_CODENAME")" "debian bookworm"
expect_eq "status.d record of kubeip" "$(sed -n 's/^Version: //p' "$R/var/lib/dpkg/status.d/kubeip" 2>/dev/null)" \
    "$( [[ -n $DEB ]] && dpkg-deb -f "$DEB" Version || sed -n 's/^Version: //p' "$R/var/lib/dpkg/status.d/kubeip")"
pkgs=$(ls "$R/var/lib/dpkg/status.d" | paste -sd ' ')
note "packages: $pkgs"
unwanted=
for p in systemd procps perl-base debconf openssl coreutils dash bash apt dpkg; do
    [[ -e $R/var/lib/dpkg/status.d/$p ]] && unwanted+=" $p"
done
if [[ -z $unwanted ]]; then
    ok "no systemd, procps, perl, debconf, openssl, coreutils, shell or package manager package"
else
    fail "packages that a container does not need:$unwanted"
fi
nocopy=
for p in $pkgs; do
    src=$(sed -n 's/^Package: //p' "$R/var/lib/dpkg/status.d/$p")
    [[ -s $R/usr/share/doc/$src/copyright ]] || nocopy+=" $p"
done
if [[ -z $nocopy ]]; then ok "every package keeps its copyright file"; else fail "no copyright file for:$nocopy"; fi

# --- 4. commands from the image, as a container runtime would run them -------------------
# in_image <env...> -- <command...>: run with the image's root read-only, new
# pid/net/mount namespaces, /proc, a minimal /dev, tmpfs on the two state
# directories, as the image's user, without new privileges, no environment
# but the image's and the one given.
image_env=$(json "$C" '" ".join(j["config"].get("Env", []))')
in_image() {
    local envs=() cmd
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    timeout "$RUN_TIMEOUT" unshare --mount --pid --net --fork --kill-child -- /bin/bash -c '
        set -e
        R=$1 uid=$2 gid=$3; shift 3
        mount --make-rprivate /
        mount --bind "$R" "$R"
        mount -o remount,bind,ro "$R"
        mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
        mount -t tmpfs -o mode=0755,size=64k,nosuid tmpfs "$R/dev"
        for n in null zero full random urandom; do : >"$R/dev/$n"; mount --bind "/dev/$n" "$R/dev/$n"; done
        mount -t tmpfs -o mode=0700,uid=$uid,gid=$gid,size=1m tmpfs "$R/var/lib/kubeip"
        mount -t tmpfs -o mode=0700,uid=$uid,gid=$gid,size=1m,nosuid,nodev tmpfs "$R/run/kubeip"
        exec /usr/bin/setpriv --no-new-privs /usr/bin/env -i "$@"
    ' in_image "$R" "$IMAGE_UID" "$IMAGE_GID" $image_env "${envs[@]}" \
        /usr/sbin/chroot --userspec="$IMAGE_UID:$IMAGE_GID" "$R" "$@"
}
run_check() { # run_check <description> <expected output regex|''> <command...>
    local what=$1 want=$2 out rc
    shift 2
    out=$(in_image -- "$@" 2>&1)
    rc=$?
    if ((rc == 0)) && [[ -z $want || $out =~ $want ]]; then
        ok "$what"
    else
        fail "$what (exit $rc)"; tail -n 15 <<<"$out" | indent
    fi
}
run_check "kubeip version as uid $IMAGE_UID: 'kubeip $VERSION'" "^kubeip $VERSION\$" /usr/bin/kubeip version
run_check "kubeip --help" "USAGE" /usr/bin/kubeip --help
run_check "kubeip check --help" "USAGE" /usr/bin/kubeip check --help
run_check "kubeip check --cloud simulated (read-only root, no network)" "" /usr/bin/kubeip check --cloud simulated

# --- 5. the entrypoint, as PID 1 ------------------------------------------------------------
mapfile -t ENTRY < <(json "$C" '"\n".join(j["config"]["Entrypoint"] + (j["config"].get("Cmd") or []))')
descendant() { # descendant <pid> <command name>: the first process of that name below pid
    ps -e -o pid=,ppid=,comm= | awk -v top="$1" -v name="$2" '
        { parent[$1] = $2; comm[$1] = $3 }
        END { for (p in comm) if (comm[p] == name) { q = p
                  while (q in parent && q != top && q > 1) q = parent[q]
                  if (q == top) { print p; exit } } }'
}
in_image CLOUD=simulated -- "${ENTRY[@]}" >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
pid= held=
for _ in $(seq $((RUN_TIMEOUT * 4))); do
    grep -q ' holding ' "$WORK/daemon.log" && { held=1; break; }
    kill -0 "$DAEMON" 2>/dev/null || break
    sleep 0.25
done
[[ -n $held ]] && pid=$(descendant "$DAEMON" kubeip)
if [[ -n $held && -n $pid ]]; then
    ok "entrypoint ${ENTRY[*]} started with no shell and holds an address (simulated cloud)"
    nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")
    expect_eq "the daemon's PID in its namespace" "$nspid" 1
    expect_eq "the daemon's uid" "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" "$IMAGE_UID"
    expect_eq "the daemon's effective capabilities" "$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")" 0000000000000000
    kill -TERM "$pid"
    rc=0
    wait "$DAEMON" || rc=$?
    DAEMON=
    expect_eq "exit status after SIGTERM to PID 1" "$rc" 0
    if grep -q 'stopped released=false' "$WORK/daemon.log"; then
        ok "kept the address on stop (release-on-exit: shutdown from /etc/kubeip/kubeip.yaml)"
    else
        fail "no 'stopped released=false' in the log"; tail -n 5 "$WORK/daemon.log" | indent
    fi
else
    fail "the entrypoint did not reach 'holding' within ${RUN_TIMEOUT}s"
    tail -n 20 "$WORK/daemon.log" | indent
fi

finish
