"""profiles/slurm on a real single-node SLURM (workflow/scripts/slurm_cluster.sh): jobs go through
sbatch with the profile's partitions and resources, and the pipeline gives the same README tables
as a local run. A reduced tiny config (one family, one variant, ASHA) keeps it to a few minutes."""

import os
import re
import subprocess
import time

import pytest
from project_copy import ROOT, deep_update, make_copy, run
from test_pipeline_e2e import e2e_params, tables

pytestmark = pytest.mark.slow

SCRIPT = ROOT / "workflow" / "scripts" / "slurm_cluster.sh"
SUBSET = "data/variants/original/cased/train.tsv"
# the report and everything it needs (README tables), both locally and through SLURM
REPORT = "results/report/tables.md"
# --workflow-profile none: Snakemake would otherwise also load profiles/default (the local
# profile) and let its keys override the SLURM profile's. NERHPO_RAY_HEAD=0: no pipeline-wide
# Ray head on the submitting machine; each HPO job starts its own Ray inside its allocation.
SLURM_CMD = ["snakemake", "--profile", "profiles/slurm", "--workflow-profile", "none"]
SLURM_ENV = {"NERHPO_RAY_HEAD": "0"}


def slurm_params() -> dict:
    params = deep_update(
        e2e_params(),
        {
            "hpo": {
                "families": ["original"],
                "train_variants": ["cased"],
                "algorithms": ["asha"],
                "num_samples": 4,  # the findings' heat maps need a few distinct trials
            },
            "baseline": {"batch_sizes": [16]},
            "objectives": {"enabled": False},
            "casing_seeds": {"seeds": 0},
            "pretrain_hpo": {"probe": {"family": "original", "variant": "cased"}},
        },
    )
    params["tag_families"] = {"original": {}}
    return params


def cluster_cmd(action: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        ["bash", str(SCRIPT), action], capture_output=True, text=True, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"slurm_cluster.sh {action} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def cluster(request):
    if os.geteuid() != 0 and subprocess.run(["which", "slurmctld"]).returncode != 0:
        pytest.skip("SLURM is not installed and installing it needs root")
    was_running = cluster_cmd("status", check=False).returncode == 0
    cluster_cmd("start")
    if not was_running:  # leave a cluster someone else started alone
        request.addfinalizer(lambda: cluster_cmd("stop", check=False))
    assert cluster_cmd("status").returncode == 0


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The same tiny config run locally, once for the module, its HPO jobs on the run's shared
    Ray head (the default), where each SLURM job starts its own Ray: the scores must not differ."""
    root = make_copy(tmp_path_factory.mktemp("local") / "project", slurm_params(), git=False)
    started = time.monotonic()
    run(["snakemake", "--cores", "2", REPORT], root, timeout=900)
    return root, time.monotonic() - started


@pytest.fixture(scope="module")
def slurm_project(tmp_path_factory):
    return make_copy(tmp_path_factory.mktemp("slurm") / "project", slurm_params(), git=False)


def submitted(output: str) -> dict[str, str]:
    """SLURM job id -> rule, from the plugin's 'submitted with SLURM jobid' lines."""
    found = re.findall(
        r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_(\w+)/", output
    )
    return {job_id: rule for job_id, rule in found}


def job_info(job_id: str) -> dict[str, str]:
    out = subprocess.run(
        ["scontrol", "show", "job", job_id], capture_output=True, text=True, check=True
    ).stdout
    return dict(re.findall(r"(\w+)=(\S*)", out))


def test_data_stages_go_through_sbatch(cluster, slurm_project):
    proc = run(SLURM_CMD + ["--slurm-keep-successful-logs", SUBSET], slurm_project,
               timeout=300, env=SLURM_ENV)  # fmt: skip
    output = proc.stdout + proc.stderr
    jobs = submitted(output)
    assert sorted(jobs.values()) == ["corpus", "variant"], output[-3000:]
    for job_id in jobs:
        info = job_info(job_id)  # finished jobs stay visible for MinJobAge (300 s)
        assert info["JobState"] == "COMPLETED", info
        # the profile's default-resources reached sbatch
        assert info["Partition"] == "cpu" and info["MinMemoryNode"] == "2000M", info
        assert info["TimeLimit"] == "01:00:00", info
    logs = list((slurm_project / ".snakemake/slurm_logs").rglob("*.log"))
    assert len(logs) == 2 and all("Finished jobid" in p.read_text() for p in logs)
    assert (slurm_project / SUBSET).stat().st_size > 0


def test_whole_pipeline_matches_a_local_run(cluster, slurm_project, local_run):
    local_root, local_s = local_run
    started = time.monotonic()
    proc = run(SLURM_CMD + [REPORT], slurm_project, timeout=900, env=SLURM_ENV)
    slurm_s = time.monotonic() - started
    print(f"\nwall time: SLURM {slurm_s:.0f} s (after the data subset), local {local_s:.0f} s")
    jobs = submitted(proc.stdout + proc.stderr)
    assert {"pretrain", "hpo", "evaluate", "baseline", "report"} <= set(jobs.values())
    hpo_job = next(job_id for job_id, rule in jobs.items() if rule == "hpo")
    info = job_info(hpo_job)
    assert info["Partition"] == "gpu" and info["MinMemoryNode"] == "8000M", info  # set-resources
    assert not (slurm_project / ".nerhpo-ray").exists()
    slurm_tables = tables((slurm_project / "README.md").read_text())
    assert slurm_tables == tables((local_root / "README.md").read_text())
    assert "original" in slurm_tables["dev-table"]
