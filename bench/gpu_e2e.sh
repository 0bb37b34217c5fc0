#!/usr/bin/env bash
# train.py end to end on the device (called by gpu_check.sh; env: BACKEND, R, PER_BATCH,
# VARIANT_NET).
# Every command's last lines and exit status; then two checks that print True or False.
run() { echo "--- train.py $*"; local t=$(date +%s)
        python train.py --no-progress --backend "$BACKEND" "$@" 2>&1 | tail -4
        echo "rc=${PIPESTATUS[0]} wall=$(( $(date +%s) - t ))s"; }
D=$R/data; python bench/fake_cifar.py "$D" "$PER_BATCH"
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
python - "$R" <<'PY'
import json, sys
rows = lambda f: [{k: v for k, v in json.loads(l).items() if k != "seconds"} for l in open(f)]
r = sys.argv[1]
print("CHECK resume reproduces the metrics exactly:",
      rows(f"{r}/whole/metrics.jsonl") == rows(f"{r}/pieces/metrics.jsonl"))
PY
for variant in "--K 64" "--shared" "--score-form explicit" "--learned" "--selection sample" \
               "--method edge-popup" "--plain"; do
  run --net "$VARIANT_NET" --dataset synthetic --epochs 1 --out $R/v$RANDOM $variant
done
