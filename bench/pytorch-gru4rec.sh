#!/usr/bin/env bash
# GRU4Rec training speed: nextclick (TF.js: wasm, tensorflow) against the official PyTorch GRU4Rec
# (hidasib/GRU4Rec_PyTorch_Official), same hyper-parameters, same data, same machine, interleaved.
# Log and results: docs/experiments/pytorch-gru4rec.md.
#
# usage: bench/pytorch-gru4rec.sh PTDIR [OUTDIR]
#   PTDIR holds venv/ and GRU4Rec_PyTorch_Official/ (a checkout of hidasib/GRU4Rec_PyTorch_Official, commit
#   d1fc311; its licence is non-commercial: it is run from PTDIR, never copied into this project). The venv:
#     python3 -m venv PTDIR/venv && PTDIR/venv/bin/pip install torch==2.15.0 "numpy<2" "pandas<3" joblib
#   (the PyPI torch wheel does not import without its nvidia-*/cuda-* dependencies, so they are installed too,
#   though only the CPU is used; numpy<2 because the official weight init multiplies a float32 array by a
#   float64 scalar, which NumPy 2 promotes to float64 and torch then refuses).
#   Run from anywhere after `npm run build` (uses dist/); data from ../shared/data next to the project root.
#   Results: one JSON line per run appended to OUTDIR/results.jsonl (default /tmp/pytorch-gru4rec).
# Env (defaults = the recorded runs): ROUNDS=2 STEPS=80 IMPLS="pt1 ncwasm nctf1" (one thread: official PyTorch,
#   nextclick wasm, nextclick tensorflow), then ROUNDS_ALL=1 STEPS_ALL=30 IMPLS_ALL="pt nctf" (all threads);
#   IMPLS may also name ptpassive (all threads with OMP_WAIT_POLICY=PASSIVE; see the log for why);
#   WARMUP=10, HIDDENS="256 100", DATASETS="yoochoose diginetica"; ACCURACY=1 adds the one-epoch accuracy check.
set -euo pipefail
PTDIR=$(cd "${1:?usage: $0 PTDIR [OUTDIR]}" && pwd)
OUT=${2:-/tmp/pytorch-gru4rec}
ROOT=${NEXTCLICK_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
DATA=$ROOT/../shared/data
ROUNDS=${ROUNDS:-2}; STEPS=${STEPS:-80}; WARMUP=${WARMUP:-10}; IMPLS=${IMPLS:-"pt1 ncwasm nctf1"}
ROUNDS_ALL=${ROUNDS_ALL:-1}; STEPS_ALL=${STEPS_ALL:-30}; IMPLS_ALL=${IMPLS_ALL:-"pt nctf"}
HIDDENS=${HIDDENS:-"256 100"}; DATASETS=${DATASETS:-"yoochoose diginetica"}
PY=$PTDIR/venv/bin/python; REPO=$PTDIR/GRU4Rec_PyTorch_Official
mkdir -p "$OUT"; TMP=$(mktemp -d)

# Diginetica (SR-GNN text: one session per line) as the TSV the official run.py reads; Time = global event order.
DG_TSV=$OUT/diginetica_train.tsv
[ -s "$DG_TSV" ] || awk 'BEGIN{OFS="\t"; print "SessionId","ItemId","Time"} {for(i=1;i<=NF;i++){t++; print NR,$i,t}}' "$DATA/diginetica/train_sessions.txt" > "$DG_TSV"

cat > "$TMP/pt_steps.py" <<'EOF'
# Runs the official implementation unmodified: imports gru4rec_pytorch from REPO, loads the TSV as its run.py does,
# wraps its SessionDataIterator only to time WARMUP..WARMUP+STEPS steps and end the epoch there, and times its
# sample-store fills. STEPS=0: whole epoch.  usage: pt_steps.py REPO TRAIN.tsv THREADS HIDDEN STEPS WARMUP [SAVE]
import os, sys, json, time
repo, train, threads, hidden, steps, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
save = sys.argv[7] if len(sys.argv) > 7 else None
import torch
if threads > 0: torch.set_num_threads(threads)
import pandas as pd, numpy as np
sys.path.insert(0, repo)
import gru4rec_pytorch as G
params = dict(loss='bpr-max', constrained_embedding='True', embedding='0', elu_param='1', layers=str(hidden), n_epochs='1',
              batch_size='128', dropout_p_embed='0.5', dropout_p_hidden='0.3', learning_rate='0.05', momentum='0.15',
              n_sample='2048', sample_alpha='0.3', bpreg='0.9', logq='0.0')
data = pd.read_csv(train, sep='\t', usecols=['SessionId', 'ItemId', 'Time'], dtype={'SessionId': 'int32', 'ItemId': 'str'})
rec = {'refill_cpu': 0.0, 'refill_wall': 0.0, 'refill_samples': 0}
orig_refresh = G.SampleCache._refresh
def timed_refresh(self):
    c, t = time.process_time(), time.perf_counter()
    orig_refresh(self)
    rec['refill_cpu'] += time.process_time() - c; rec['refill_wall'] += time.perf_counter() - t
    rec['refill_samples'] += self.generate_length * self.n_sample
G.SampleCache._refresh = timed_refresh
orig_call = G.SessionDataIterator.__call__
def limited(self, enable_neg_samples, reset_hook=None):
    k = 0
    for item in orig_call(self, enable_neg_samples, reset_hook):
        if k == warmup: rec['t0'] = time.perf_counter(); rec['c0'] = time.process_time(); rec['l0'] = os.getloadavg()[0]
        if steps > 0 and k == warmup + steps: break
        yield item
        k += 1
    rec['t1'] = time.perf_counter(); rec['c1'] = time.process_time(); rec['k'] = k
G.SessionDataIterator.__call__ = limited
gru = G.GRU4Rec(device=torch.device('cpu'))
gru.set_params(**params)
T0 = time.perf_counter()
# a store of 400 batches of samples (run.py's default is 10M samples = 4882 batches; the per-sample cost is the same)
gru.fit(data, sample_cache_max_size=2048 * 400 if steps > 0 else 10000000)
T1 = time.perf_counter()
n = rec['k'] - warmup
ev = n * 128  # the official loop counts batch_size targets per step (as its own e/s print does)
wall = rec['t1'] - rec['t0']; cpu = rec['c1'] - rec['c0']
per_sample_cpu = rec['refill_cpu'] / rec['refill_samples']; per_sample_wall = rec['refill_wall'] / rec['refill_samples']
print(json.dumps(dict(impl='official-pytorch', torch=torch.__version__, threads=torch.get_num_threads(), file=os.path.basename(train), items=int(gru.data_iterator.n_items), hidden=hidden, steps=n, warmup=warmup, events=ev, wall=round(wall, 3), cpu=round(cpu, 3),
      evPerSecWall=round(ev / wall), evPerSecCpu=round(ev / cpu), evPerSecCpuWithSampling=round(ev / (cpu + n * 2048 * per_sample_cpu)), evPerSecWallWithSampling=round(ev / (wall + n * 2048 * per_sample_wall)),
      fitSeconds=round(T1 - T0, 1), load1=[round(rec['l0'], 2), round(os.getloadavg()[0], 2)])), flush=True)
if save: gru.savemodel(save)
EOF

cat > "$TMP/nc_steps.mjs" <<'EOF'
// The same Gru4RecStepper + SessionParallelBatcher that `nextclick train` uses on sync-read backends, on a real
// log, timing WARMUP..WARMUP+STEPS steps (wall and process CPU).
// usage: node nc_steps.mjs --dist DIST --train FILE --format tsv|srgnn --hidden 256 --steps 80 --warmup 10 --backend wasm|tensorflow
import { loadavg } from 'node:os';
const args = process.argv.slice(2);
const flag = (n, d) => { const i = args.indexOf(n); return i < 0 ? d : args[i + 1]; };
const dist = flag('--dist'); const trainPath = flag('--train'); const format = flag('--format', 'tsv');
const hidden = Number(flag('--hidden', '256')); const steps = Number(flag('--steps', '80')); const warmup = Number(flag('--warmup', '10'));
const backend = flag('--backend', 'wasm');
const { selectBackend } = await import(`${dist}/src/backend/select-backend.js`);
const { readSessions } = await import(`${dist}/src/data/index.js`);
const { buildCorpus } = await import(`${dist}/src/baselines/corpus.js`);
const { resolveGru4RecConfig } = await import(`${dist}/models/gru4rec/config.js`);
const { Gru4RecParams } = await import(`${dist}/models/gru4rec/params.js`);
const { Gru4RecStepper } = await import(`${dist}/models/gru4rec/train-step.js`);
const { Rng } = await import(`${dist}/models/training/rng.js`);
const { PopularitySampler } = await import(`${dist}/models/training/sampler.js`);
const { SessionParallelBatcher } = await import(`${dist}/models/training/session-batcher.js`);
const sel = await selectBackend({ backend, strict: true });
const corpus = await buildCorpus(readSessions(trainPath, { format }));
const config = resolveGru4RecConfig({ layers: [hidden], validationFraction: 0 });
const rng = new Rng(config.seed);
const params = new Gru4RecParams(config, corpus.vocabulary.size);
params.initialize(rng);
const support = new Float64Array(corpus.vocabulary.size);
for (const i of corpus.items) support[i]++;
const stepper = new Gru4RecStepper(params, config, new PopularitySampler(support, config.sampleAlpha), rng.fork());
const batcher = new SessionParallelBatcher({ offsets: corpus.offsets, items: corpus.items }, config.batchSize);
stepper.resetHidden();
for (let i = 0; i < warmup; i++) { batcher.step(); stepper.step(batcher.batch); }
const c0 = process.cpuUsage(); const t0 = performance.now(); const l0 = loadavg()[0];
let ev = 0;
for (let i = 0; i < steps; i++) { if (!batcher.step()) throw new Error('log exhausted'); ev += batcher.batch.size; stepper.step(batcher.batch); }
const wall = (performance.now() - t0) / 1000; const cu = process.cpuUsage(c0); const cpu = (cu.user + cu.system) / 1e6;
const r3 = (x) => Math.round(x * 1000) / 1000;
console.log(JSON.stringify({ impl: 'nextclick', backend: sel.backend, threads: process.env.NC_THREADS ?? 'all', file: trainPath.split('/').pop(), items: corpus.vocabulary.size, hidden, steps, warmup, events: ev, wall: r3(wall), cpu: r3(cpu), evPerSecWall: Math.round(ev / wall), evPerSecCpu: Math.round(ev / cpu), load1: [l0, loadavg()[0]] }));
EOF

one() { # impl dataset hidden
  local impl=$1 ds=$2 h=$3 tsv fmt ncfile
  if [ "$ds" = yoochoose ]; then tsv=$DATA/yoochoose-100k/train.tsv; ncfile=$tsv; fmt=tsv; else tsv=$DG_TSV; ncfile=$DATA/diginetica/train_sessions.txt; fmt=srgnn; fi
  local one_thread="env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 NC_THREADS=1"
  case $impl in
    pt1) $one_thread nice -n 5 "$PY" "$TMP/pt_steps.py" "$REPO" "$tsv" 1 "$h" "$STEPS" "$WARMUP" ;;
    pt) nice -n 5 "$PY" "$TMP/pt_steps.py" "$REPO" "$tsv" 0 "$h" "$STEPS" "$WARMUP" ;;
    ptpassive) OMP_WAIT_POLICY=PASSIVE nice -n 5 "$PY" "$TMP/pt_steps.py" "$REPO" "$tsv" 0 "$h" "$STEPS" "$WARMUP" | sed 's/"impl": "official-pytorch"/"impl": "official-pytorch-passive"/' ;;
    ncwasm) NC_THREADS=1 nice -n 5 node "$TMP/nc_steps.mjs" --dist "$ROOT/dist" --train "$ncfile" --format $fmt --hidden "$h" --steps "$STEPS" --warmup "$WARMUP" --backend wasm ;;
    nctf1) $one_thread nice -n 5 node "$TMP/nc_steps.mjs" --dist "$ROOT/dist" --train "$ncfile" --format $fmt --hidden "$h" --steps "$STEPS" --warmup "$WARMUP" --backend tensorflow ;;
    nctf) nice -n 5 node "$TMP/nc_steps.mjs" --dist "$ROOT/dist" --train "$ncfile" --format $fmt --hidden "$h" --steps "$STEPS" --warmup "$WARMUP" --backend tensorflow ;;
  esac 2>>"$OUT/stderr.log" | grep '^{' | sed "s/^{/{\"at\":\"$(date -u +%H:%M:%S)\",\"uptime\":\"$(uptime | sed 's/.*load average: //')\",\"round\":$r,/" | tee -a "$OUT/results.jsonl" \
    || echo "run failed: $impl $ds hidden $h (see $OUT/stderr.log)" >&2
}

# Rounds alternate the order (A B C / C B A) so each side sees the same minutes of machine load.
rounds() { # n impls
  for r in $(seq 1 "$1"); do
    for h in $HIDDENS; do for ds in $DATASETS; do
      order=$2; [ $((r % 2)) -eq 0 ] && order=$(echo $2 | tr ' ' '\n' | tac | tr '\n' ' ')
      for impl in $order; do one "$impl" "$ds" "$h"; done
    done; done
  done
}
rounds "$ROUNDS" "$IMPLS"
STEPS=$STEPS_ALL rounds "$ROUNDS_ALL" "$IMPLS_ALL"

# One-epoch accuracy, yoochoose-100k, hidden 256, one thread, conservative ties (official: its run.py + evaluation.py).
if [ "${ACCURACY:-0}" = 1 ]; then
  YC=$DATA/yoochoose-100k
  env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 10 "$PY" "$REPO/run.py" "$YC/train.tsv" -d cpu \
    -ps loss=bpr-max,constrained_embedding=True,embedding=0,elu_param=1,layers=256,n_epochs=1,batch_size=128,dropout_p_embed=0.5,dropout_p_hidden=0.3,learning_rate=0.05,momentum=0.15,n_sample=2048,sample_alpha=0.3,bpreg=0.9,logq=0.0 \
    -s "$OUT/pt-yc-256.pt" -t "$YC/test.tsv" -m 20 -e conservative | grep -E 'Epoch1|Recall@20' | tee -a "$OUT/accuracy.log"
  env OMP_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 nice -n 10 node "$ROOT/bin/nextclick.js" train --model gru4rec \
    --train "$YC/train.tsv" --format tsv --out "$OUT/nc-yc-256" --force --param epochs=1 --param validationFraction=0 --param layers=256 --json | tee -a "$OUT/accuracy.log"
  env OMP_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 nice -n 10 node "$ROOT/bin/nextclick.js" evaluate \
    --model "$OUT/nc-yc-256" --test "$YC/test.tsv" --k 20 --quiet --json | grep -o '"cutoffs":\[{[^]]*' | tee -a "$OUT/accuracy.log"
fi
rm -rf "$TMP"
