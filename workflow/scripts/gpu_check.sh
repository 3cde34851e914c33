#!/usr/bin/env bash
# The GPU measurements of the README's Performance section, for a GPU node without internet
# (a cluster node, an air-gapped machine). Run it on the node from the project's root, with the
# bundle of `python workflow/scripts/offline_bundle.py` carried beside the code
# (docs/offline-gpu.md):
#
#   bash workflow/scripts/gpu_check.sh install  # unpack and install the bundle, check the node
#   bash workflow/scripts/gpu_check.sh bench    # Trainer (seed, best) vs nerhpo's trainer at
#                                               # BERT-base size; then CUDA graphs, packed trials
#   bash workflow/scripts/gpu_check.sh study    # one HPO job per algorithm at GermEval size,
#                                               # projected to all (workflow/scripts/study_cost.py)
#
# Every part installs the bundle first (once per bundle) and fails within seconds if a package,
# the GPU or the data is missing. Settings, as environment variables:
#   BUNDLE   the bundle folder (.offline-bundle); if absent, its parts in $BUNDLE.parts/ are
#            checked against SHA256SUMS and unpacked; BUNDLE=none: use the installed packages
#   SITE     where the wheels are installed ($BUNDLE/site), put first on PYTHONPATH
#   PYTHON   the node's Python (python3); it needs pip and torch built for the node's CUDA
#   OUT      where the figures go (results/gpu)
#   BACKEND  cuda, or cpu to try the commands on a machine without a GPU (cuda)
#   DATA     the benchmark's folder with NER-de-test.tsv and NER-de-dev.tsv (default: the one
#            under $BUNDLE/data/)
#   bench:   SIZE (base), EPOCHS (1), BATCH (32), MAX_SENTENCES (all), PACKED (4)
#   study:   SIZE (base), ALGORITHMS (asha,bohb,pbt), TRAIN_SENTENCES (24000), DEV_SENTENCES
#            (2200), TRIALS (20), MAX_EPOCHS (params' hpo.max_epochs), GPUS_PER_TRIAL (0.25),
#            CPUS_PER_TRIAL (3), STEP_TIMEOUT (seconds per step; none), and WORK (results/gpu-work),
#            the study's work folder, kept so that a study cut short resumes when run again
# Paths are relative to the project's root.
set -euo pipefail
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
part=${1:-}
case "$part" in
install | bench | study) ;;
-h | --help)
    usage
    exit 0
    ;;
*)
    usage >&2
    exit 2
    ;;
esac
cd "$(dirname "$0")/../.."
fail() {
    echo "gpu_check: error: $*" >&2
    exit 1
}
PY=${PYTHON:-python3}
OUT=${OUT:-results/gpu}
BACKEND=${BACKEND:-cuda}
BUNDLE=${BUNDLE:-.offline-bundle}
mkdir -p "$OUT"

if [ "$BUNDLE" != none ]; then
    if [ ! -d "$BUNDLE" ]; then
        parts=$BUNDLE.parts
        [ -f "$parts/SHA256SUMS" ] ||
            fail "no bundle at $BUNDLE nor its parts in $parts/ (build it with offline_bundle.py)"
        (cd "$parts" && sha256sum --quiet -c SHA256SUMS) >&2 || fail "a part in $parts/ is damaged"
        mkdir -p "$(dirname "$BUNDLE")"
        cat "$parts/$(basename "$BUNDLE").tar".[0-9]* | tar -x -C "$(dirname "$BUNDLE")"
        echo "gpu_check: unpacked $BUNDLE from $parts/" >&2
    fi
    [ -f "$BUNDLE/bundle.json" ] || fail "$BUNDLE has no bundle.json; is it a bundle?"
    want=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["python_version"])' \
        "$BUNDLE/bundle.json")
    have=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    [ "$want" = "$have" ] ||
        fail "the bundle is for Python $want, $PY is $have (rebuild it with --python-version $have)"
    SITE=${SITE:-$BUNDLE/site}
    stamp=$(sha256sum <"$BUNDLE/bundle.json" | cut -d' ' -f1)
    if [ "$(cat "$SITE/.bundle-stamp" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$SITE"
        "$PY" -m pip install -q --no-index --no-deps --no-cache-dir --target "$SITE" \
            "$BUNDLE"/wheels/*.whl
        echo "$stamp" >"$SITE/.bundle-stamp"
        echo "gpu_check: installed $(ls "$BUNDLE"/wheels | wc -l) wheels into $SITE" >&2
    fi
    export PYTHONPATH=$(cd "$SITE" && pwd)${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1

# a missing package or GPU fails here, in seconds, not minutes into a measurement
"$PY" - "$BACKEND" <<'EOF'
import sys
import hpbandster.optimizers.config_generators.bohb, jsonschema, ray.tune, seqeval.metrics, tabulate
import torch, transformers
import nerhpo.measure.benchmark, nerhpo.search.runner
if sys.argv[1] == "cuda" and not torch.cuda.is_available():
    sys.exit("gpu_check: error: BACKEND=cuda but torch sees no GPU (BACKEND=cpu to try on a CPU)")
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
print(f"gpu_check: python {sys.version.split()[0]}, torch {torch.__version__}, "
      f"transformers {transformers.__version__}, ray {ray.__version__}, {gpu}", file=sys.stderr)
EOF
{ nvidia-smi || echo "no nvidia-smi"; } >"$OUT/gpu.txt" 2>&1

if [ "$part" = bench ]; then
    data=${DATA:-}
    if [ -z "$data" ] && [ "$BUNDLE" != none ]; then
        for d in "$BUNDLE"/data/*/; do
            if [ -f "$d/NER-de-test.tsv" ] && [ -f "$d/NER-de-dev.tsv" ]; then
                data=${d%/}
                break
            fi
        done
    fi
    [ -n "$data" ] || fail "DATA: set it to a folder with NER-de-test.tsv and NER-de-dev.tsv"
    bench=(workflow/scripts/benchmark.py --data "$data" --size "${SIZE:-base}" --device "$BACKEND"
        --epochs "${EPOCHS:-1}" --batch-size "${BATCH:-32}"
        ${MAX_SENTENCES:+--max-sentences "$MAX_SENTENCES"})
    # a single trial against the Trainer: seed settings (fp32, batch 8) and best settings
    "$PY" "${bench[@]}" --runs seed,trainer-best,ours \
        >"$OUT/bench.jsonl" 2> >(tee "$OUT/bench.log" >&2)
    if [ "$BACKEND" = cuda ]; then
        # CUDA graphs (static buckets, torch.compile reduce-overhead) and packed trials
        "$PY" "${bench[@]}" --runs seed,ours --compile --packed "${PACKED:-4}" \
            >"$OUT/bench-packed.jsonl" 2> >(tee "$OUT/bench-packed.log" >&2)
    fi
    cat "$OUT"/bench*.jsonl
elif [ "$part" = study ]; then
    work=${WORK:-results/gpu-work}
    "$PY" workflow/scripts/study_cost.py --work "$work" --out "$OUT/study_cost.json" \
        --size "${SIZE:-base}" --algorithms "${ALGORITHMS:-asha,bohb,pbt}" \
        --train-sentences "${TRAIN_SENTENCES:-24000}" --dev-sentences "${DEV_SENTENCES:-2200}" \
        --trials "${TRIALS:-20}" ${MAX_EPOCHS:+--max-epochs "$MAX_EPOCHS"} \
        --gpus-per-trial "${GPUS_PER_TRIAL:-0.25}" --cpus-per-trial "${CPUS_PER_TRIAL:-3}" \
        --concurrency 4 --threads 4 ${STEP_TIMEOUT:+--timeout "$STEP_TIMEOUT"} \
        2> >(tee "$OUT/study_cost.log" >&2) | tee "$OUT/study_cost.md"
    tar czf "$OUT/study-logs.tgz" -C "$work" logs # the jobs' logs, small beside the work folder
else
    echo "gpu_check: ready; figures go to $OUT" >&2
fi
