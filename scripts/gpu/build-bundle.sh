#!/usr/bin/env bash
# Builds a self-contained GPU bundle (no network, no npm on the target): the Node binary, the project build of
# the COMMITTED tree (git HEAD, compiled in a scratch copy), the node_modules files the GPU benchmark actually
# opens (found by running it under strace on lavapipe), and the Vulkan loader libvulkan.so.1.
# Output folder (default .cache/gpu/bundle, ignored by git): run.sh, payload.tar.gz, MANIFEST.txt.
# Fails if the folder exceeds 64 MiB (what can be carried to a GPU machine).
# usage: bash scripts/gpu/build-bundle.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
out=$(realpath -m "${1:-.cache/gpu/bundle}")
stage=$repo/.cache/gpu/stage
limit=$((64 * 1024 * 1024))
log() { echo "build-bundle: $*" >&2; }

[[ -d node_modules/webgpu/dist/linux-x64 ]] || { echo "build-bundle: node_modules/webgpu missing (npm ci)" >&2; exit 2; }
command -v strace >/dev/null || { echo "build-bundle: needs strace (apt-get install strace)" >&2; exit 2; }

# 1. Lavapipe for the trace run (also provides the Vulkan loader that goes into the bundle).
eval "$(bash scripts/gpu/setup-lavapipe.sh --quiet | sed 's/^/export /')"
lavalib=${LD_LIBRARY_PATH%%:*}

# 2. Compile the committed tree in a scratch copy (other work in progress in this tree stays out).
rm -rf "$stage" && mkdir -p "$stage/tree" "$stage/payload/app" "$stage/payload/lib/fallback" "$stage/payload/bin"
commit=$(git rev-parse HEAD)
git archive HEAD | tar -x -C "$stage/tree"
ln -s "$repo/node_modules" "$stage/tree/node_modules"
log "compiling $commit"
(cd "$stage/tree" && nice -n 10 "$repo/node_modules/.bin/tsc" -p tsconfig.build.json)

# 3. Trace which node_modules files the check and the benchmark open (all backends, the project GRU4Rec too).
log "tracing the quick benchmark on lavapipe"
(cd "$stage/tree" && nice -n 10 strace -f -qq -e trace=openat -e status=successful -o "$stage/trace.txt" \
  node scripts/gpu/check.mjs --allow-software --out "$stage/check.json" > "$stage/trace-check.log" 2>&1)
(cd "$stage/tree" && nice -n 10 strace -f -qq -e trace=openat -e status=successful -o "$stage/trace2.txt" \
  node bench/gpu.mjs --quick --backends webgpu,wasm,cpu --out "$stage/bench.json" > "$stage/trace-bench.log" 2>&1)
cat "$stage/trace2.txt" >> "$stage/trace.txt"
# Node opens real paths (the symlinked node_modules resolves to the repo's); keep them relative to the root.
grep -o '"[^"]*node_modules/[^"]*"' "$stage/trace.txt" | tr -d '"' | sed -E "s#^($repo|$stage/tree)/##" | grep '^node_modules/' > "$stage/files.txt"
# All wasm variants: which one loads depends on the target's SIMD/threads support.
(cd "$repo" && ls node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm) >> "$stage/files.txt"
sort -u -o "$stage/files.txt" "$stage/files.txt"
n=0
while read -r f; do
  [[ -f "$repo/$f" ]] || continue
  mkdir -p "$stage/payload/app/$(dirname "$f")"
  cp "$repo/$f" "$stage/payload/app/$f"
  n=$((n + 1))
done < "$stage/files.txt"
log "node_modules: $n files, $(du -sh "$stage/payload/app/node_modules" | cut -f1)"

# 4. The app: package.json (ESM), the build without maps/typings, the GPU scripts.
cp package.json "$stage/payload/app/"
(cd "$stage/tree" && find dist -name '*.js' -print0 | xargs -0 -I{} install -D -m 644 {} "$stage/payload/app/{}")
install -D -m 644 bench/gpu.mjs "$stage/payload/app/bench/gpu.mjs"
for f in check.mjs workload.mjs auto-select.mjs; do install -D -m 644 "scripts/gpu/$f" "$stage/payload/app/scripts/gpu/$f"; done
echo "$commit" > "$stage/payload/app/COMMIT"

# 5. Node, the Vulkan loader, and fallbacks for libraries a bare GPU image may lack (used only if absent there).
node_bin=$(readlink -f "$(command -v node)")
cp "$node_bin" "$stage/payload/bin/node"
cp -L "$lavalib/libvulkan.so.1" "$stage/payload/lib/libvulkan.so.1"
for l in libstdc++.so.6 libgcc_s.so.1 libGLdispatch.so.0; do
  p=$(ldconfig -p | awk -v l="$l" '$1 == l && /x86-64/ { print $NF; exit }')
  [[ -n "$p" ]] && cp -L "$p" "$stage/payload/lib/fallback/$l"
done

# 6. Pack.
mkdir -p "$out" && rm -f "$out/payload.tar.gz" "$out/run.sh" "$out/MANIFEST.txt"
log "compressing (gzip -9; every target has gzip)"
tar -C "$stage/payload" -cf - . | nice -n 10 gzip -9 > "$out/payload.tar.gz"
install -m 755 scripts/gpu/run-gpu.sh "$out/run.sh"
{
  echo "nextclick GPU bundle"
  echo "commit: $commit"
  echo "built: $(date -u +%FT%TZ) on $(hostname)"
  echo "node: $("$node_bin" --version) ($(stat -c %s "$node_bin") bytes)"
  echo "vulkan loader: $(readlink -f "$lavalib/libvulkan.so.1" | xargs basename)"
  echo "fallback libs: $(ls "$stage/payload/lib/fallback" | tr '\n' ' ')"
  echo "node_modules files: $n"
  echo "unpacked: $(du -sb "$stage/payload" | cut -f1) bytes"
  echo "payload.tar.gz: $(stat -c %s "$out/payload.tar.gz") bytes"
  (cd "$out" && sha256sum payload.tar.gz run.sh)
} > "$out/MANIFEST.txt"
total=$(du -sb "$out" | cut -f1)
echo "bundle total: $total bytes" >> "$out/MANIFEST.txt"
cat "$out/MANIFEST.txt" >&2
if (( total > limit )); then echo "build-bundle: bundle is $total bytes, over the 64 MiB limit" >&2; exit 1; fi
log "ok: $out ($((total / 1024 / 1024)) MiB)"
