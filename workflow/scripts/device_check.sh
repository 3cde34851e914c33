#!/usr/bin/env bash
# The GPU measurements of the Performance section, one command each, for a GPU machine that
# reaches no package index. Beside the code it needs .device/ from
# `python workflow/scripts/device_bundle.py` (wheels and GermEval), or the packages installed.
#
#   bash workflow/scripts/device_check.sh bench   # Trainer (seed, best) vs nerhpo's trainer,
#                                                 # BERT-base; then CUDA graphs and 4 packed trials
#   bash workflow/scripts/device_check.sh study   # one HPO job per algorithm at GermEval size,
#                                                 # projected to all 18 (workflow/scripts/study_cost.py)
#
# Results go to $OUT (default .device/out). The study's work folder ($WORK, default .device-work)
# is kept, so a study cut short by a call's time limit resumes in the next call. Variables
# override the scale (the tests run both parts on a CPU at micro size): DEVICE, SIZE, EPOCHS,
# MAX_SENTENCES, BATCH, PACKED, ALGORITHMS, TRAIN_SENTENCES, DEV_SENTENCES, TRIALS, MAX_EPOCHS,
# GPUS_PER_TRIAL, CPUS_PER_TRIAL, STEP_TIMEOUT, WORK, WHEELS, PYTHON.
set -euo pipefail
cd "$(dirname "$0")/../.."
part=${1:-}
case "$part" in bench | study) ;; *)
    sed -n '2,16p' "$0" >&2
    exit 2
    ;;
esac
PY=${PYTHON:-python3}
OUT=${OUT:-.device/out}
DEVICE=${DEVICE:-cuda}
mkdir -p "$OUT"
WHEELS=${WHEELS:-.device/wheels}
if [ -d "$WHEELS" ]; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/nerhpo-site "$WHEELS"/*.whl
    export PYTHONPATH=/tmp/nerhpo-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
# a missing package or GPU fails here, in seconds, not minutes into a measurement
"$PY" - "$DEVICE" <<'EOF'
import sys
import hpbandster.optimizers.config_generators.bohb, jsonschema, ray.tune, seqeval.metrics, tabulate
import torch, transformers
import nerhpo.benchmark, nerhpo.hpo
if sys.argv[1] == "cuda" and not torch.cuda.is_available():
    sys.exit("device_check: DEVICE=cuda but torch sees no GPU")
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
print(f"device_check: python {sys.version.split()[0]}, torch {torch.__version__}, "
      f"transformers {transformers.__version__}, ray {ray.__version__}, {gpu}", file=sys.stderr)
EOF
{ nvidia-smi || echo "no nvidia-smi"; } >"$OUT/gpu.txt" 2>&1

if [ "$part" = bench ]; then
    data=${DATA:-.device/germeval}
    bench=(workflow/scripts/benchmark.py --data "$data" --size "${SIZE:-base}" --device "$DEVICE"
        --epochs "${EPOCHS:-1}" --batch-size "${BATCH:-32}" ${MAX_SENTENCES:+--max-sentences "$MAX_SENTENCES"})
    # a single trial against the Trainer: seed settings (fp32, batch 8) and best settings
    "$PY" "${bench[@]}" --runs seed,trainer-best,ours >"$OUT/bench.jsonl" 2> >(tee "$OUT/bench.log" >&2)
    if [ "$DEVICE" = cuda ]; then
        # CUDA graphs (static buckets, torch.compile reduce-overhead) and packed trials
        "$PY" "${bench[@]}" --runs seed,ours --compile --packed "${PACKED:-4}" \
            >"$OUT/bench-packed.jsonl" 2> >(tee "$OUT/bench-packed.log" >&2)
    fi
    cat "$OUT"/bench*.jsonl
else
    "$PY" workflow/scripts/study_cost.py --work "${WORK:-.device-work}" --out "$OUT/study_cost.json" \
        --size "${SIZE:-base}" --algorithms "${ALGORITHMS:-asha,bohb,pbt}" \
        --train-sentences "${TRAIN_SENTENCES:-24000}" --dev-sentences "${DEV_SENTENCES:-2200}" \
        --trials "${TRIALS:-20}" ${MAX_EPOCHS:+--max-epochs "$MAX_EPOCHS"} \
        --gpus-per-trial "${GPUS_PER_TRIAL:-0.25}" --cpus-per-trial "${CPUS_PER_TRIAL:-3}" \
        --concurrency 4 --threads 4 ${STEP_TIMEOUT:+--timeout "$STEP_TIMEOUT"} \
        2> >(tee "$OUT/study_cost.log" >&2)
    tar czf "$OUT/study-logs.tgz" -C "${WORK:-.device-work}" logs  # one file: $OUT returns 8 at most
fi
