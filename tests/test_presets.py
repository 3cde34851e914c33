"""The params presets: valid, the same keys as params.yaml (a key added there must be added to
every preset), differing only where the preset says, and planned by Snakemake as documented."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from nerhpo.core.config import check_params

ROOT = Path(__file__).resolve().parents[1]
PRESETS = sorted((ROOT / "presets").glob("*.yaml"))

# what the GermEval GPU preset changes, and nothing else
GPU_PRESET_KEYS = {
    "corpus.source",
    "corpus.files.train",
    "corpus.files.dev",
    "corpus.files.test",
    "model.name_or_path",
    "train.learning_rate",
    "hpo.num_samples",
    "hpo.max_epochs",
    "hpo.concurrency",
    "hpo.gpus_per_trial",
    "hpo.gpus_per_job",
    "hpo.repeats",
    "hpo.retrain_seeds",
    "hpo.compare.families",
    "hpo.compare.train_variants",
    "hpo.search_space.learning_rate.low",
    "hpo.search_space.learning_rate.high",
    "casing_seeds.families",
    "objectives.train_variants",
}


def flat(tree, prefix=""):
    if isinstance(tree, dict) and tree:
        out = {}
        for key, value in tree.items():
            out.update(flat(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): tree}


def load(path):
    return yaml.safe_load(path.read_text())


def test_there_is_a_preset():
    assert [p.name for p in PRESETS] == ["germeval2014-gpu.yaml"]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_a_preset_is_valid_and_has_every_key_of_params(preset):
    params = check_params(load(preset), str(preset))
    base = flat(load(ROOT / "params.yaml"))
    keys = set(flat(params))
    assert keys - set(base) == set() and set(base) - keys == set()


def test_the_gpu_preset_changes_only_its_keys():
    preset = flat(load(ROOT / "presets/germeval2014-gpu.yaml"))
    base = flat(load(ROOT / "params.yaml"))
    changed = {key for key in base if base[key] != preset[key]}
    assert changed == GPU_PRESET_KEYS
    assert preset["hpo.num_samples"] == 20  # the seed's budget
    assert preset["hpo.concurrency"] * preset["hpo.gpus_per_trial"] <= preset["hpo.gpus_per_job"]


def test_snakemake_plans_the_gpu_study_with_the_preset():
    out = subprocess.run(
        [
            "snakemake",
            "-n",
            "--cores",
            "16",
            "--resources",
            "gpu=4",
            "--configfile",
            "presets/germeval2014-gpu.yaml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout + out.stderr
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", text, re.M))
    assert counts["hpo"] == "18" and counts["evaluate"] == "18"
    assert counts["repeats"] == "24"  # one job per compared series: 2 x 3 x 4 algorithms
    hpo_job = text[text.index("rule hpo:") :].split("\n\n", 1)[0]
    assert "threads: 4" in hpo_job and "gpu=1" in hpo_job  # 4 trials packed on one GPU
