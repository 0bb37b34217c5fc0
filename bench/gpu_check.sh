#!/usr/bin/env bash
# The one prepared GPU check of slotnp's CuPy path: at most ~8 minutes on one GPU, every stage
# under its own timeout, everything written to $OUT (env, pytest, e2e, counts, bench, train
# .txt, and timeline.txt). Run from the repository root:
#   OUT=/tmp/gpu bash bench/gpu_check.sh            on the GPU machine
#   DRY=1 OUT=/tmp/gpu bash bench/gpu_check.sh      NumPy in place of CuPy, to test the script
# CIFAR=DIR trains the last stage on CIFAR-10 in DIR (else on the small generated set).
set -u
OUT=${OUT:-/tmp/gpu_check}; mkdir -p "$OUT"; : > "$OUT/timeline.txt"
T0=$(date +%s); R=$(mktemp -d)
BACKEND=cupy; PER_BATCH=2000; PYTEST="-k cupy tests"; BENCH=""; VARIANT_NET=conv2
if [ "${DRY:-0}" = 1 ]; then
  BACKEND=numpy; PER_BATCH=200; PYTEST="tests/test_backend.py"; VARIANT_NET=lenet
  BENCH="--dry --nets conv2 --variants K8 --reps 2"
fi
elapsed() { echo $(( $(date +%s) - T0 )); }
stage() {   # stage NAME SECONDS COMMAND...: the command's output and exit status in NAME.txt
  local name=$1 limit=$2; shift 2
  echo "== $name (limit ${limit}s) at $(elapsed)s" | tee -a "$OUT/timeline.txt"
  timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1
  echo "rc=$?" | tee -a "$OUT/$name.txt" >> "$OUT/timeline.txt"
}
stage env 30 bash -c "nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv;
  python -c 'import sys, numpy; print(sys.version.split()[0], \"numpy\", numpy.__version__)';
  python -c 'import cupy; print(\"cupy\", cupy.__version__)';
  python -c 'import torch; print(\"torch\", torch.__version__, torch.cuda.is_available())';
  python -c 'from slotnp import backend; backend.use(\"$BACKEND\"); print(\"backend\", backend.name(), \"ok\")'"
stage pytest 150 python -m pytest -q -p no:cacheprovider -rfEs --tb=short --durations=5 $PYTEST
stage e2e 150 env BACKEND=$BACKEND R=$R PER_BATCH=$PER_BATCH VARIANT_NET=$VARIANT_NET \
  bash bench/gpu_e2e.sh
stage counts 90 python bench/op_count.py --batch 8 --nets conv2 conv6   # (batch: no effect)
stage bench 120 python bench/gpu.py --out "$OUT/gpu_results.json" $BENCH
left=$(( 470 - $(elapsed) ))
if [ "$left" -gt 30 ]; then
  DATA=${CIFAR:-$R/data}
  stage train "$left" python train.py --backend $BACKEND --net conv2 --K 8 --data-dir "$DATA" \
    --out "$R/train" --time-limit $(( (left - 20) / 60 )) --no-progress
else
  echo "== train skipped: ${left}s left" | tee -a "$OUT/timeline.txt"
fi
echo "== done at $(elapsed)s" | tee -a "$OUT/timeline.txt"
