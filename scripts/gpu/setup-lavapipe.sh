#!/usr/bin/env bash
# Sets up Mesa's software Vulkan driver (lavapipe) from Debian bookworm-backports in a private folder, without
# changing the system: Debian 12's own Mesa 22.3 is too old for Dawn (no shader*ArrayDynamicIndexing), the
# backports Mesa 25 works. apt runs with a private source list, state and cache under .cache/gpu/, and the
# packages are unpacked with `dpkg -x`. Prints the environment to use (also written to .cache/gpu/lavapipe.env):
#   VK_DRIVER_FILES=<lvp_icd json>  LD_LIBRARY_PATH=<unpacked libs>
# Re-running reuses the downloads. Usage: bash scripts/gpu/setup-lavapipe.sh [--quiet]
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD/.cache/gpu"
apt_dir="$root/apt"
debs="$root/debs"
sysroot="$root/lavapipe"
env_file="$root/lavapipe.env"
quiet=${1:-}
log() { [[ "$quiet" == --quiet ]] || echo "setup-lavapipe: $*" >&2; }

arch=$(dpkg --print-architecture 2>/dev/null || echo unknown)
if [[ "$arch" != amd64 ]]; then echo "setup-lavapipe: needs Debian amd64 (dpkg arch: $arch)" >&2; exit 2; fi
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [[ "$codename" != bookworm ]]; then echo "setup-lavapipe: written for Debian 12 bookworm (found '${codename}')" >&2; exit 2; fi

if [[ -f "$env_file" && -f "$sysroot/.complete" ]]; then
  log "already set up ($sysroot)"; cat "$env_file"; exit 0
fi

mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$debs"
mirror=${NEXTCLICK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cat > "$apt_dir/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm-updates main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm-backports main
SRC
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=-"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Cache::archives=$apt_dir/cache/archives" -o "APT::Sandbox::User=root"
  -o "Debug::NoLocking=1" -o "APT::Get::List-Cleanup=0"
)
log "apt-get update (private lists in $apt_dir)"
apt-get "${apt_opts[@]}" -qq update >&2

# What installing the backports driver and the loader would add or upgrade on THIS system (the simulation reads
# the system's dpkg status; nothing is installed). Those packages are exactly the ones to unpack privately.
mapfile -t pkgs < <(apt-get "${apt_opts[@]}" -s -qq -t bookworm-backports install --no-install-recommends \
  mesa-vulkan-drivers libvulkan1 | awk '$1 == "Inst" { v = $3; if (v ~ /^\[/) v = $4; gsub(/[()]/, "", v); print $2 "=" v }')
if [[ ${#pkgs[@]} -eq 0 ]]; then echo "setup-lavapipe: apt found nothing to download" >&2; exit 1; fi
log "downloading ${#pkgs[@]} packages: ${pkgs[*]}"
(cd "$debs" && apt-get "${apt_opts[@]}" -qq download "${pkgs[@]}" >&2)

rm -rf "$sysroot.tmp" && mkdir -p "$sysroot.tmp"
for p in "${pkgs[@]}"; do
  name=${p%%=*}
  deb=$(ls "$debs/${name}"_*.deb | sort -V | tail -1)
  dpkg -x "$deb" "$sysroot.tmp"
done
rm -rf "$sysroot" && mv "$sysroot.tmp" "$sysroot"

icd=$(ls "$sysroot"/usr/share/vulkan/icd.d/lvp_icd.*json 2>/dev/null | head -1 || true)
if [[ -z "$icd" ]]; then echo "setup-lavapipe: lvp_icd json not found in the unpacked mesa-vulkan-drivers" >&2; exit 1; fi
# The ICD json names the driver by absolute system path; point it at the unpacked copy.
lvp=$(ls "$sysroot"/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so)
sed -i -E "s#\"library_path\": *\"[^\"]*\"#\"library_path\": \"$lvp\"#" "$icd"
libdirs="$sysroot/usr/lib/x86_64-linux-gnu:$sysroot/lib/x86_64-linux-gnu"
{ echo "VK_DRIVER_FILES=$icd"; echo "LD_LIBRARY_PATH=$libdirs"; } > "$env_file"
touch "$sysroot/.complete"
log "done: lavapipe in $sysroot"
cat "$env_file"
