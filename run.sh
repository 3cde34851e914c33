#!/usr/bin/env bash
# nerhpo's two entry points. Each sets up what it needs (a venv in .venv), then:
#   ./run.sh pipeline [snakemake args]   run the whole pipeline on the embedded demo (CPU)
#   ./run.sh test [fast]                 style checks + the test suite (fast: unit tests only)
set -euo pipefail
cd "$(dirname "$0")"
VENV=${NERHPO_VENV:-.venv}
LOCK=requirements.lock  # the exact versions the tests pass with (docs/environment.md)
# TORCH_SPEC, if set, replaces the lock's torch pin, e.g. with a CUDA build of the same version:
#   TORCH_SPEC='torch==2.13.0+cuNNN' PIP_EXTRA_INDEX_URL=<PyTorch's index for it> ./run.sh pipeline
TORCH_SPEC=${TORCH_SPEC:-}

setup() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "[setup] creating $VENV" >&2
        python3 -m venv "$VENV"
    fi
    # shellcheck disable=SC1091
    . "$VENV/bin/activate"
    stamp="$VENV/.nerhpo-installed"
    installed="$LOCK torch=${TORCH_SPEC:-locked}"  # what the stamp says was installed
    if [ ! -f "$stamp" ] || [ "$LOCK" -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ] ||
        [ "$(cat "$stamp")" != "$installed" ]; then
        echo "[setup] installing $LOCK${TORCH_SPEC:+ with $TORCH_SPEC}, then nerhpo" >&2
        python -m pip install -q --upgrade pip
        if [ -n "$TORCH_SPEC" ]; then
            grep -v '^torch==' "$LOCK" >"$VENV/nerhpo-requirements.txt"
            python -m pip install -q -r "$VENV/nerhpo-requirements.txt" "$TORCH_SPEC"
        else
            python -m pip install -q -r "$LOCK"
        fi
        python -m pip install -q --no-deps -e .
        python -m pip check >&2
        echo "$installed" >"$stamp"
    fi
}

system_packages() {
    # tmux: the status view's watch mode is tested in a real terminal (tests/test_status.py).
    # slurm-wlm is installed by workflow/scripts/slurm_cluster.sh when its tests start it.
    if ! command -v tmux >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "[setup] installing tmux (apt-get)" >&2
            apt-get update -qq >/dev/null && apt-get install -y -qq tmux >/dev/null
        else
            echo "[setup] tmux is missing: install it (e.g. apt-get install tmux)" >&2
        fi
    fi
}

checks() {
    echo "[checks] ruff, snakefmt, snakemake --lint, lint-imports, dvc.yaml current" >&2
    ruff check src tests workflow
    ruff format --check src tests workflow/scripts
    snakefmt --check Snakefile workflow/rules
    snakemake --lint >/dev/null || { snakemake --lint; exit 1; }
    lint-imports --no-cache >/dev/null || { lint-imports --no-cache; exit 1; }
    python workflow/scripts/write_dvc_yaml.py --check
}

cmd=${1:-}
shift || true
case "$cmd" in
    pipeline)
        setup
        # a run killed by SIGKILL leaves Snakemake's lock behind; clear it if no run is alive
        if [ -n "$(ls -A .snakemake/locks 2>/dev/null)" ] && ! pgrep -f "$PWD/$VENV/bin/snakemake" >/dev/null; then
            snakemake --unlock >/dev/null 2>&1 || true
        fi
        snakemake --cores "${NERHPO_CORES:-all}" "$@"
        ;;
    test)
        setup
        system_packages
        checks
        if [ "${1:-}" = fast ]; then
            python -m pytest -q -m "not slow" --timeout 600
        else
            python -m pytest -q --timeout 1800 --durations 15
        fi
        ;;
    *)
        sed -n '2,5p' "$0" >&2
        exit 2
        ;;
esac
