#!/usr/bin/env bash
# Builds the `local` system's debian-12 base image (systems/local.yaml,
# bases.debian-12.hostBuilt) from this host's own apt sources: no Docker Hub is
# reachable from the build hosts, the Debian mirror is.
#
#   mmdebstrap --variant=minbase --include=ca-certificates,usr-is-merged bookworm  -> rootfs tar
#   buildah from scratch + add + config + commit --timestamp         -> localhost/brickyard/base-debian-12:bookworm
#   buildah push oci-archive:                                         -> .brickyard/bases/debian-12.oci.tar
#   metadata                                                          -> .brickyard/bases/debian-12.json
#
# Usage: scripts/build-base.sh [--force]
#   --force  rebuild even when the image and its record match.
# Environment: SOURCE_DATE_EPOCH (the image and file timestamps; default: the
#   newest Date of the host's apt Release files), BRICKYARD_BASE_SOURCES (the
#   apt sources file; default /etc/apt/sources.list.d/debian.sources, else
#   /etc/apt/sources.list).
# Exit codes: 0 built or cached, 1 a step failed, 2 wrong host or user.
set -euo pipefail

BY_PROG=build-base
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=scripts/lib/containers-env.sh
. "$here/lib/containers-env.sh"

force=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    -h | --help)
      sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) by_die "unknown argument '$arg' (usage: build-base.sh [--force])" 2 ;;
  esac
done

repo=$(cd -- "$here/.." && pwd -P)
[[ -f $repo/systems/local.yaml ]] || by_die "cannot find the repository root from $here (no systems/local.yaml in $repo)"

ref=$BY_BASE_REF
suite=bookworm
tag=bookworm
outdir=$repo/.brickyard/bases
archive=$outdir/debian-12.oci.tar
record=$outdir/debian-12.json
buildlog=$outdir/debian-12.build.log

# The image lives in root's container storage (where podman/buildah find
# `localhost/brickyard/...` for every root caller), and mmdebstrap's root mode
# is the one measured here.
((EUID == 0)) || by_die "must run as root (the base goes into root's container storage): sudo $0${*:+ $*}" 2
by_need_cmd mmdebstrap buildah skopeo sha256sum

# --- The apt sources the base is built from ---------------------------------
if [[ -n ${BRICKYARD_BASE_SOURCES:-} ]]; then
  sources=$BRICKYARD_BASE_SOURCES
  [[ -s $sources ]] || by_die "BRICKYARD_BASE_SOURCES=$sources is not a readable, non-empty file"
else
  # The base is named debian-12; a different host's sources would give a different OS.
  # shellcheck source=/dev/null
  os=$(. /etc/os-release && echo "${ID:-}:${VERSION_CODENAME:-}")
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  if [[ $os != debian:$suite ]]; then
    # Another host (an Ubuntu CI runner): Debian's own mirror, checked with Debian's archive keyring.
    [[ -s $keyring ]] ||
      by_die "this host is '$os', not debian:$suite: install debian-archive-keyring (scripts/setup-host.sh does) or set BRICKYARD_BASE_SOURCES to a $suite sources file" 2
    mkdir -p -- "$outdir"
    sources=$outdir/debian-$suite.sources
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s %s-updates\nComponents: main\nSigned-By: %s\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: %s-security\nComponents: main\nSigned-By: %s\n' \
      "$suite" "$suite" "$keyring" "$suite" "$keyring" >"$sources"
  elif [[ -s /etc/apt/sources.list.d/debian.sources ]]; then
    sources=/etc/apt/sources.list.d/debian.sources
  elif [[ -s /etc/apt/sources.list ]]; then
    sources=/etc/apt/sources.list
  else
    by_die "no apt sources: neither /etc/apt/sources.list.d/debian.sources nor /etc/apt/sources.list exists" 2
  fi
fi
sources_sha=$(sha256sum <"$sources" | cut -d' ' -f1)

mkdir -p -- "$outdir"
# One build at a time per repository (two CI steps may both want the base).
exec 9>"$outdir/.debian-12.lock"
flock 9

# --- Cache check --------------------------------------------------------------
json_get() { # json_get KEY: a value from the record (written below, one key per line)
  sed -n "s/^  \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$record" 2>/dev/null | head -n 1
}
image_id() { buildah inspect --type image --format '{{.FromImageID}}' "$ref" 2>/dev/null || true; }
file_size() { stat -c %s -- "$1"; }

write_record() { # write_record BUILT EPOCH
  local id digest archive_digest size tmp
  id=$(image_id)
  [[ -n $id ]] || by_die "buildah has no image $ref after the build"
  digest=$(buildah inspect --type image --format '{{.FromImageDigest}}' "$ref")
  archive_digest=$(skopeo inspect --format '{{.Digest}}' "oci-archive:$archive") ||
    by_die "skopeo cannot read $archive"
  size=$(podman image inspect --format '{{.Size}}' "$ref" 2>/dev/null || echo 0)
  tmp=$(mktemp "$record.XXXXXX")
  # Paths contain no quotes or backslashes in practice; escape them anyway.
  local src=${sources//\\/\\\\}
  src=${src//\"/\\\"}
  cat >"$tmp" <<EOF
{
  "reference": "$ref",
  "imageId": "sha256:$id",
  "digest": "$digest",
  "built": "$1",
  "size": $size,
  "sourcesFile": "$src",
  "sourcesSha256": "$sources_sha",
  "sourceDateEpoch": $2,
  "archive": "bases/debian-12.oci.tar",
  "archiveDigest": "$archive_digest",
  "archiveSize": $(file_size "$archive")
}
EOF
  chmod 0644 "$tmp"
  mv -f -- "$tmp" "$record"
}

export_archive() {
  local tmp=$archive.tmp
  rm -f -- "$tmp"
  # Apptainer's `Bootstrap: oci-archive` reads the single image in it.
  buildah push -q "$ref" "oci-archive:$tmp:$tag" >>"$buildlog" 2>&1 ||
    by_die "buildah push $ref oci-archive:$tmp:$tag failed (see $buildlog)"
  mv -f -- "$tmp" "$archive"
}

if ((!force)) && [[ -s $record ]] && [[ $(json_get reference) == "$ref" ]] &&
  [[ $(json_get sourcesFile) == "$sources" ]] && [[ $(json_get sourcesSha256) == "$sources_sha" ]]; then
  want_id=$(json_get imageId)
  have_id=$(image_id)
  archive_ok=0
  [[ -s $archive && $(file_size "$archive") == "$(json_get archiveSize)" ]] && archive_ok=1
  if [[ -n $have_id && sha256:$have_id == "$want_id" ]]; then
    if ((archive_ok)); then
      by_log "cached: $ref ($want_id), $archive"
      exit 0
    fi
    # The image is there but the archive went missing: export again (seconds).
    t0=$(by_now)
    export_archive
    write_record "$(json_get built)" "$(json_get sourceDateEpoch)"
    by_log "re-exported $archive from $ref in $(by_elapsed "$t0") s"
    exit 0
  fi
  if [[ -z $have_id ]] && ((archive_ok)); then
    # Fresh container storage but a cached archive (e.g. a CI cache of
    # .brickyard): import it; the image ID is the config digest, so it is kept.
    t0=$(by_now)
    if skopeo copy -q "oci-archive:$archive:$tag" "containers-storage:$ref" >>"$buildlog" 2>&1 &&
      [[ sha256:$(image_id) == "$want_id" ]]; then
      # Same image ID, but the stored manifest is now the archive's (compressed).
      write_record "$(json_get built)" "$(json_get sourceDateEpoch)"
      by_log "restored $ref ($want_id) from $archive in $(by_elapsed "$t0") s"
      exit 0
    fi
    by_warn "could not restore $ref from $archive (see $buildlog); building it"
  fi
fi

# --- Build --------------------------------------------------------------------
t_start=$(by_now)
: >"$buildlog"
work=$(mktemp -d "$repo/.brickyard/tmp.base-debian-12.XXXXXX")
chmod 0755 "$work" # apt's download sandbox (user _apt) must reach mmdebstrap's tempdir
ctr=""
cleanup() {
  [[ -n $ctr ]] && buildah rm "$ctr" >/dev/null 2>&1
  rm -rf -- "$work" "$archive.tmp"
}
trap cleanup EXIT
# mmdebstrap builds its chroot under TMPDIR and buildah stages there too: keep
# both inside .brickyard rather than /tmp (which may be a small tmpfs).
export TMPDIR=$work

# Fixed timestamps make the result reproducible: mmdebstrap clamps file times to
# SOURCE_DATE_EPOCH and buildah commit --timestamp sets the image's created time
# and every layer file's time, so the same mirror content gives the same image ID.
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
  newest=$(sed -n 's/^Date: //p' /var/lib/apt/lists/*Release 2>/dev/null |
    while read -r d; do date -u -d "$d" +%s 2>/dev/null; done | sort -n | tail -n 1)
  SOURCE_DATE_EPOCH=${newest:-0}
fi
[[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]] || by_die "SOURCE_DATE_EPOCH='$SOURCE_DATE_EPOCH' is not a number of seconds"
export SOURCE_DATE_EPOCH

# The host's apt settings that decide whether its mirror can be reached at all
# (snapshot mirrors need Check-Valid-Until false; proxies). mmdebstrap does not
# read the host's apt.conf.d, and it keeps these in the image so that RUN
# apt-get works in builds on top of it.
aptopts=()
while IFS= read -r line; do
  aptopts+=("--aptopt=$line")
done < <(apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy) ' || true)

by_log "mmdebstrap $suite from $sources (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
t0=$(by_now)
# The hook drops the host's resolv.conf and hostname, which mmdebstrap copies in
# (they would make the image differ per host; runtimes bind their own).
# apt satisfies init-system-helpers' "usrmerge | usr-is-merged" with usrmerge,
# which pulls in the whole of perl (about 47 MiB of the 171 MiB) for a /usr
# conversion mmdebstrap has already done: usr-is-merged is included instead and
# the second hook purges usrmerge and perl (perl-base, which dpkg needs, stays).
# As in Debian's -slim images, dpkg leaves out documentation, manual pages and
# translations (copyright files stay): about 50 MiB, in every image built on it
# (the path-exclude file stays in /etc/dpkg/dpkg.cfg.d for later installs).
# shellcheck disable=SC2016 # $1 is the hook's argument, expanded by mmdebstrap's shell
if ! mmdebstrap --mode=root --variant=minbase --include=ca-certificates,usr-is-merged \
  "${aptopts[@]}" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --customize-hook='rm -f "$1/etc/resolv.conf" "$1/etc/hostname"' \
  --customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q usrmerge perl libperl5.36 perl-modules-5.36 libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl' \
  "$suite" "$work/rootfs.tar" "$sources" >>"$buildlog" 2>&1; then
  tail -n 25 "$buildlog" >&2 || true
  by_die "mmdebstrap failed (full log: $buildlog)"
fi
by_log "rootfs $(($(file_size "$work/rootfs.tar") / 1048576)) MiB in $(by_elapsed "$t0") s"

t0=$(by_now)
arch=$(buildah info --format '{{index .host "arch"}}')
ctr=$(buildah from --name "brickyard-base-debian-12-$$" scratch) || by_die "buildah from scratch failed"
buildah add --quiet "$ctr" "$work/rootfs.tar" / >>"$buildlog" 2>&1 || by_die "buildah add of the rootfs failed (see $buildlog)"
rm -f -- "$work/rootfs.tar"
buildah config \
  --os linux --arch "$arch" \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env LANG=C.UTF-8 \
  --cmd /bin/bash \
  --label org.opencontainers.image.title=base-debian-12 \
  --label org.opencontainers.image.description="Debian $suite minbase + ca-certificates, built by mmdebstrap from the build host's apt sources" \
  --label dev.brickyard.base=debian-12 \
  --created-by "mmdebstrap --variant=minbase --include=ca-certificates,usr-is-merged $suite (Brickyard scripts/build-base.sh)" \
  "$ctr" || by_die "buildah config failed"
buildah commit --quiet --rm --timestamp "$SOURCE_DATE_EPOCH" "$ctr" "$ref" >>"$buildlog" 2>&1 ||
  by_die "buildah commit $ref failed (see $buildlog)"
ctr=""
by_log "committed $ref in $(by_elapsed "$t0") s"

t0=$(by_now)
export_archive
write_record "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SOURCE_DATE_EPOCH"
by_log "wrote $archive ($(($(file_size "$archive") / 1048576)) MiB) in $(by_elapsed "$t0") s"
by_log "built $ref $(json_get imageId) in $(by_elapsed "$t_start") s; record: $record"
