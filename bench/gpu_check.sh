#!/usr/bin/env bash
# The one prepared GPU check of slotnp's CuPy path, within LIMIT seconds (8 minutes) on one GPU:
# every stage under its own budget, everything written to $OUT (env, pytest, e2e, counts,
# bench, train .txt, and timeline.txt with each stage's time), the output unbuffered so that a
# stage stopped at its budget keeps what it printed. Run from the repository root:
#   OUT=/tmp/gpu bash bench/gpu_check.sh            on the GPU machine
#   DRY=1 OUT=/tmp/gpu bash bench/gpu_check.sh      on the CPU, to test the script: NumPy in
#                                                   place of CuPy, the counting backend (CuPy's
#                                                   paths) for the bench, smaller budgets
# CIFAR=DIR trains the last stage on the CIFAR-10 slice in DIR (bench/cifar_slice.py writes one
# on the CPU beforehand: 10,000 training images, 44 MiB, to carry to the GPU machine), else on
# a small generated set. PYTHON picks the interpreter (python3 by default).
set -u
OUT=${OUT:-/tmp/gpu_check}; mkdir -p "$OUT"; : > "$OUT/timeline.txt"
PYTHON=${PYTHON:-python3}; export PYTHONUNBUFFERED=1
LIMIT=480                                           # the whole check, seconds
B_ENV=20; B_PYTEST=150; B_E2E=120; B_COUNTS=40; B_BENCH=90; B_TRAIN_MIN=60
BACKEND=cupy; PER_BATCH=2000; BENCH=""
PYTEST="tests/core tests/slots tests/fast -k cupy"
if [ "${DRY:-0}" = 1 ]; then
  BACKEND=numpy; PER_BATCH=200; PYTEST="tests/fast/test_gpu_paths.py"
  BENCH="--dry --nets conv2 --variants K8 --reps 2"
fi
budgets=$(( B_ENV + B_PYTEST + B_E2E + B_COUNTS + B_BENCH + B_TRAIN_MIN ))
if [ "$budgets" -gt "$LIMIT" ]; then
  echo "gpu_check.sh: the stage budgets add up to ${budgets}s, over the ${LIMIT}s limit" >&2
  exit 2
fi
T0=$(date +%s); R=$(mktemp -d)
elapsed() { echo $(( $(date +%s) - T0 )); }
stage() {   # stage NAME SECONDS COMMAND...: the command's output and exit status in NAME.txt
  local name=$1 limit=$2 start; shift 2; start=$(date +%s)
  echo "== $name (budget ${limit}s) at $(elapsed)s" | tee -a "$OUT/timeline.txt"
  timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1
  echo "rc=$? took=$(( $(date +%s) - start ))s" | tee -a "$OUT/$name.txt" >> "$OUT/timeline.txt"
}
stage env "$B_ENV" bash -c "nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv;
  $PYTHON -c 'import sys, numpy; print(sys.version.split()[0], \"numpy\", numpy.__version__)';
  $PYTHON -c 'import cupy; print(\"cupy\", cupy.__version__)';
  $PYTHON -c 'import torch; print(\"torch\", torch.__version__, torch.cuda.is_available())';
  $PYTHON -c 'from slotnp import backend; backend.use(\"$BACKEND\"); print(\"backend\", backend.name(), \"ok\")'"
stage pytest "$B_PYTEST" $PYTHON -u -m pytest -v -p no:cacheprovider -rfEs --tb=short \
  --durations=5 $PYTEST
stage e2e "$B_E2E" env BACKEND=$BACKEND R=$R PER_BATCH=$PER_BATCH PYTHON=$PYTHON \
  bash bench/gpu_e2e.sh
# GS and PS on CONV-2 (the counting backend runs on the host: all four variants of two nets
# overran the 40 s in the dry run; these two took 16 s)
stage counts "$B_COUNTS" $PYTHON bench/op_count.py --batch 8 --nets conv2 --variants K8 K8-sample
stage bench "$B_BENCH" $PYTHON bench/gpu.py --out "$OUT/gpu_results.json" $BENCH
left=$(( LIMIT - $(elapsed) ))
if [ "$left" -ge "$B_TRAIN_MIN" ]; then
  DATA=${CIFAR:-$R/data}
  minutes=$($PYTHON -c "print(($left - 30) / 60)")    # the last epoch may overrun by ~30 s
  stage train "$left" $PYTHON train.py --backend $BACKEND --net conv2 --K 8 --data-dir "$DATA" \
    --out "$R/train" --time-limit "$minutes" --no-progress
else
  echo "== train skipped: ${left}s left, under ${B_TRAIN_MIN}s" | tee -a "$OUT/timeline.txt"
fi
echo "== done at $(elapsed)s" | tee -a "$OUT/timeline.txt"
