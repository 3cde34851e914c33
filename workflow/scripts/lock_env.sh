#!/usr/bin/env bash
# Writes requirements.lock and the pip pins of workflow/envs/nerhpo.yaml (docs/environment.md).
#   workflow/scripts/lock_env.sh          resolve afresh: a scratch venv gets $LOCK_TORCH, then
#                                         nerhpo[dev] at the newest versions pyproject.toml allows
#   workflow/scripts/lock_env.sh VENV     freeze VENV as it is instead (one made that way)
# Then run ./run.sh test and commit both files with the change that needed them.
# Environment: PYTHON (default python3; must be 3.11), LOCK_TORCH (default torch==2.13.0).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
LOCK_TORCH=${LOCK_TORCH:-torch==2.13.0}
LOCK=requirements.lock
CONDA_ENV=workflow/envs/nerhpo.yaml

if [ $# -gt 0 ]; then
    venv=$1
    [ -x "$venv/bin/python" ] || { echo "lock_env: $venv is no venv" >&2; exit 2; }
else
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    venv=$scratch/venv
    echo "[lock] resolving in a scratch venv: $LOCK_TORCH, then nerhpo[dev]" >&2
    "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q "$LOCK_TORCH"
    "$venv/bin/python" -m pip install -q -e ".[dev]"
fi
py="$venv/bin/python"
"$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
    { echo "lock_env: the lock is for Python 3.11; $py is $("$py" -V)" >&2; exit 1; }
"$py" -m pip check

# the pins: no editable or direct-URL lines; local labels dropped (torch's "+cpu": `torch==2.13.0`
# then takes the CPU wheel where pip can find one, as on CI, and a CUDA build elsewhere)
pins=$("$py" -m pip freeze --exclude-editable | sed -E 's/^([^=;@ ]+==[^+;@ ]+)\+[^;@ ]+/\1/')
if grep -vE '^[A-Za-z0-9][A-Za-z0-9._-]*(\[[^]]*\])?==[^ ]+$' <<<"$pins"; then
    echo "lock_env: the lines above are not plain name==version pins" >&2
    exit 1
fi
grep -qi '^torch==' <<<"$pins" || { echo "lock_env: torch is not installed in $venv" >&2; exit 1; }
if [ "$("$py" -c 'import torch; print(torch.version.cuda is None)')" = True ] &&
    grep -iE '^(nvidia-|triton==)' <<<"$pins"; then
    echo "lock_env: CUDA packages beside a CPU torch (above): leftovers, not dependencies" >&2
    exit 1
fi

{
    cat <<'EOF'
# The exact environment nerhpo is tested with: CPU Linux, Python 3.11 (docs/environment.md).
# Made by workflow/scripts/lock_env.sh: in a fresh venv `pip install torch==2.13.0`, then
# `pip install -e .[dev]`, then `pip freeze --exclude-editable` (the local "+cpu" of torch's
# version dropped). Install: `pip install -r requirements.lock && pip install --no-deps -e .`
# (./run.sh does). Refresh: `workflow/scripts/lock_env.sh`, then `./run.sh test`; do not edit.
EOF
    printf '%s\n' "$pins"
} >"$LOCK"

{
    cat <<'EOF'
# For `snakemake --sw-deployment-method conda`; the default set-up is the venv that ./run.sh makes.
# The pip pins are requirements.lock's, written here by workflow/scripts/lock_env.sh (do not edit):
# listed rather than `-r ../../requirements.lock`, since Snakemake names its environments by this
# file's content and so rebuilds one only when the file changes. `-e ../..` is resolved from the
# copy Snakemake makes under .snakemake/conda/, two levels below the project root as this file is.
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - pip:
EOF
    sed 's/^/      - /' <<<"$pins"
    echo "      - -e ../.."
} >"$CONDA_ENV"

echo "[lock] $LOCK: $(wc -l <<<"$pins") pins; $CONDA_ENV rewritten" >&2
