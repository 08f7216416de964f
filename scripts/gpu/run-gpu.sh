#!/usr/bin/env bash
# Runs in the GPU bundle (copied there as run.sh by build-bundle.sh): unpacks Node + app + Vulkan loader,
# finds the Vulkan driver (NVIDIA's ICD on the GPU machines), checks the adapter and webgpu-vs-cpu agreement,
# then runs bench/gpu.mjs on webgpu and wasm (the CPU numbers of the same run). Results (JSON + logs) go to
# $RESULTS_DIR, else $OUT (the device machine's return folder), else ./gpu-results.
# usage: bash run.sh [--allow-software] [bench args, e.g. --quick | --items 43097 --hidden 100 --seconds 20]
# Exit: 0 ok, 3 no (hardware) adapter, 4 webgpu disagrees with cpu, other = failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
results=${RESULTS_DIR:-${OUT:-$PWD/gpu-results}}
mkdir -p "$results"
exec > >(tee -a "$results/run.log") 2>&1
allow=()
if [[ "${1:-}" == --allow-software ]]; then allow=(--allow-software); shift; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nextclick-gpu.XXXXXX")
echo "run: unpacking into $work"
tar -xzf "$here/payload.tar.gz" -C "$work" || { echo "run: cannot unpack payload.tar.gz"; exit 2; }
node="$work/bin/node"

# Libraries: the bundled Vulkan loader; fallbacks only for libraries this system lacks.
libpath="$work/lib"
mkdir -p "$work/lib/missing"
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
has_lib() {
  "$ldconfig" -p 2>/dev/null | grep -q "^[[:space:]]*$1 " && return 0
  for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64; do [[ -e "$d/$1" ]] && return 0; done
  return 1
}
for f in "$work"/lib/fallback/*; do
  [[ -e "$f" ]] || continue
  name=$(basename "$f")
  has_lib "$name" || { ln -s "$f" "$work/lib/missing/$name"; echo "run: using bundled $name (absent here)"; }
done
libpath+=":$work/lib/missing"
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [[ -d "$d" ]] && libpath+=":$d"; done
export LD_LIBRARY_PATH="$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# Vulkan driver: keep a caller's VK_DRIVER_FILES (lavapipe tests); else NVIDIA's ICD where the GPU images put it.
# Without a display, a manifest naming NVIDIA's GLX library is left to the project: that library cannot create a
# Vulkan instance headless, and with VK_DRIVER_FILES unset the project points the loader at the driver's EGL
# library instead (headlessNvidiaIcd in src/backend/webgpu.ts).
icds=${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-}}
if [[ -z "$icds" ]]; then
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    [[ -f "$f" ]] || continue
    icds=$f
    headless_glx=0
    grep -q 'libGLX_nvidia' "$f" && [[ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]] && headless_glx=1
    (( headless_glx )) || export VK_DRIVER_FILES="$f"
    break
  done
fi
echo "run: ICD manifest ${icds:-<loader default>}; VK_DRIVER_FILES=${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-<unset: the project chooses>}}"
icds=${icds//:/ }
{
  echo "== nvidia-smi"; (nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || true)
  echo "== ICD"; for f in ${icds}; do echo "$f"; cat "$f" 2>&1; done
  lib=""
  [[ -n "$icds" ]] && lib=$(grep -ho '"library_path"[^,}]*' ${icds} </dev/null 2>/dev/null | head -1 | sed -E 's/.*: *"([^"]*)".*/\1/')
  if [[ -n "$lib" ]]; then
    echo "== ldd of the ICD library ($lib)"
    p=$lib; [[ "$p" == /* ]] || p=$(for d in ${LD_LIBRARY_PATH//:/ }; do [[ -f "$d/$lib" ]] && echo "$d/$lib" && break; done)
    [[ -z "$p" ]] && p=$("$ldconfig" -p 2>/dev/null | awk -v l="$lib" '$1 == l { print $NF; exit }')
    if [[ -n "$p" ]]; then ldd "$p" 2>&1 | grep -E "=>" | head -40; else echo "(not found on the library path)"; fi
  fi
  echo "== NVIDIA graphics/Vulkan libraries"
  for d in ${LD_LIBRARY_PATH//:/ } /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu; do
    ls "$d" 2>/dev/null | grep -E 'EGL_nvidia|GLX_nvidia|glvkspirv|libGLdispatch|eglcore|vulkan' | sed "s#^#$d/#"
  done
  echo "== devices"; ls -l /dev/nvidia* /dev/dri 2>&1
  echo "== NVIDIA_* environment"; env | grep -E '^NVIDIA_' || echo "(none)"
  echo "== node"; "$node" --version
} > "$results/environment.txt" 2>&1
sed -n '/^== ldd/,/^== node/p' "$results/environment.txt" | grep -E "=> not found|not found on the library path" \
  && echo "run: WARNING: the Vulkan ICD library or its dependencies are missing (see environment.txt)"

cd "$work/app"
# What the library picks by itself (auto, without the ICD chosen above): webgpu on the GPU is the goal.
echo "run: automatic backend selection (selectBackend auto, VK_DRIVER_FILES unset)"
env -u VK_DRIVER_FILES -u VK_ICD_FILENAMES -u NEXTCLICK_BACKEND "$node" scripts/gpu/auto-select.mjs --out "$results/auto-select.json"
echo "run: automatic selection exit $? (0 = webgpu on a hardware adapter)"
echo "run: adapter check and webgpu-vs-cpu agreement"
"$node" scripts/gpu/check.mjs "${allow[@]}" --out "$results/check.json"
rc=$?
# No adapter: keep the Vulkan loader's own account of why.
(( rc == 3 )) && VK_LOADER_DEBUG=error,warn,driver "$node" scripts/gpu/check.mjs "${allow[@]}" --out "$results/check-debug.json" > "$results/loader.log" 2>&1
if (( rc != 0 )); then echo "run: check failed (exit $rc); see $results/check.json"; exit "$rc"; fi
echo "run: benchmark (webgpu, then wasm on the CPU)"
"$node" bench/gpu.mjs --backends webgpu,wasm --out "$results/gpu-bench.json" "$@" | tee "$results/gpu-bench.md"
rc=${PIPESTATUS[0]}
rm -rf "$work"
echo "run: done (exit $rc); results in $results"
exit "$rc"
