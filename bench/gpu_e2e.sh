#!/usr/bin/env bash
# train.py end to end on the device (called by gpu_check.sh; env: BACKEND, R, PER_BATCH,
# PYTHON). Every command's last lines, exit status and wall time; then a check that prints
# True or False. The variants run on Lenet (synthetic data): each process's start-up and first
# kernels dominate, and a CONV-2 at K = 64 would draw 2 x 275 M values on the host.
PYTHON=${PYTHON:-python3}
run() { echo "--- train.py $*"; local t=$(date +%s)
        $PYTHON train.py --no-progress --backend "$BACKEND" "$@" 2>&1 | tail -4
        echo "rc=${PIPESTATUS[0]} wall=$(( $(date +%s) - t ))s"; }
D=$R/data; $PYTHON bench/fake_cifar.py "$D" "$PER_BATCH"
C2="--net conv2 --data-dir $D --K 8"
run $C2 --epochs 2 --out $R/c2 --time-limit 1e-6          # the headline command, crop + flip
run --resume --out $R/c2                                  # ... resumed to its end
run $C2 --eval $R/c2/best.npz
run --export $R/c2/best.npz $R/c2/net.slot
run --eval $R/c2/net.slot --data-dir $D
run --finetune $R/c2/best.npz --epochs 1 --out $R/ft --data-dir $D
S="--net lenet --dataset synthetic --K 4 --batch-size 64 --dropout 0.5 --selection sample"
run $S --epochs 3 --out $R/whole
run $S --epochs 3 --out $R/pieces --time-limit 1e-6
run --resume --out $R/pieces
$PYTHON - "$R" <<'PY'
import json, sys
rows = lambda f: [{k: v for k, v in json.loads(l).items() if "seconds" not in k} for l in open(f)]
r = sys.argv[1]
print("CHECK resume reproduces the metrics exactly:",
      rows(f"{r}/whole/metrics.jsonl") == rows(f"{r}/pieces/metrics.jsonl"))
PY
for variant in "--K 64" "--shared network" "--score-form explicit" "--learned" \
               "--method edge-popup" "--plain"; do
  run --net lenet --dataset synthetic --epochs 1 --out $R/v$RANDOM $variant
done
