"""A real two-node Ray cluster on this machine (a head and a worker node, one CPU each): an HPO
study with ``hpo.ray_address`` set joins it, runs two trials at once, one on each node, and
trials.csv says which node ran each trial. Only the processes this test started are stopped
(``nerhpo.search.ray_head.stop``; a bare ``ray stop`` would end every Ray on the machine)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
import yaml
from test_hpo import hpo_cmd, tiny_hpo_params, workdir  # noqa: F401  (workdir: the tiny data fixture)

from nerhpo.search import ray_head

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(tmp_path):
    """Head (ray_head.start) plus one worker node (``ray start --address``); yields
    (address, node ids, temp dir); afterwards stops exactly these processes."""
    head_dir = tmp_path / "ray-head"
    # the watcher stops the cluster should this test process die before the teardown
    address = ray_head.start(num_cpus=1, num_gpus=0, watch_pid=os.getpid(), head_dir=head_dir)
    temp_dir = (head_dir / "temp_dir").read_text().strip()
    try:
        worker = subprocess.run(
            [
                ray_head.ray_bin(),
                "start",
                f"--address={address}",
                "--num-cpus=1",
                "--num-gpus=0",
                "--disable-usage-stats",
            ],
            env=ray_head.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert worker.returncode == 0, worker.stderr[-2000:]
        nodes = alive_nodes(address, expected=2)
        yield address, nodes, temp_dir
    finally:
        procs = ray_head.head_processes(temp_dir)
        ray_head.stop(head_dir)
        gone, alive = psutil.wait_procs(procs, timeout=10)
        alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"Ray processes left: {alive}"
        assert not ray_head.head_processes(temp_dir)


def alive_nodes(address: str, expected: int) -> set[str]:
    """The cluster's node ids, asked through ``ray`` in a separate driver process."""
    code = (
        "import ray, json, sys\n"
        f"ray.init(address={address!r}, log_to_driver=False, include_dashboard=False)\n"
        "print(json.dumps([n['NodeID'] for n in ray.nodes() if n['Alive']]))\n"
    )
    deadline = time.time() + 60
    while True:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            env=ray_head.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        nodes = set(json.loads(proc.stdout.strip().splitlines()[-1]))
        if len(nodes) >= expected or time.time() > deadline:
            assert len(nodes) == expected, nodes
            return nodes
        time.sleep(1)


def test_study_runs_on_both_nodes(workdir, cluster):  # noqa: F811
    address, nodes, _ = cluster
    params = tiny_hpo_params(
        hpo={"ray_address": address, "concurrency": 2, "cpus_per_trial": 1, "num_samples": 4}
    )
    (workdir / "params-cluster.yaml").write_text(yaml.safe_dump(params))
    cmd = hpo_cmd("params-cluster.yaml")
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert f"joined the Ray cluster at {address}" in output  # not a local Ray after all
    trials = pd.read_csv(workdir / "results/hpo/original/cased/random/trials.csv")
    assert len(trials) == 4 and set(trials.status) == {"TERMINATED"}
    # each trial ran on a node of this cluster, and both nodes ran trials
    assert set(trials.node) <= nodes, (set(trials.node), nodes)
    assert set(trials.node) == nodes
    assert trials.node_ip.notna().all()


def test_two_studies_at_once_keep_their_trials_apart(workdir, cluster):  # noqa: F811
    """Two studies started together on one cluster (as a pipeline's jobs share its head): each
    keeps its own trials. Both are named ``tune``; Tune stages driver files by start second and
    name, so without a folder per process they shared one and mixed their trials."""
    address, _, temp_dir = cluster
    params = tiny_hpo_params(hpo={"ray_address": address, "num_samples": 3, "max_epochs": 2})
    (workdir / "params-two.yaml").write_text(yaml.safe_dump(params))
    procs = [
        subprocess.Popen(
            hpo_cmd("params-two.yaml", algorithm),
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for algorithm in ("random", "asha")
    ]
    outputs = [proc.communicate(timeout=600)[0] for proc in procs]
    for proc, output in zip(procs, outputs):
        assert proc.returncode == 0, output[-3000:]
        assert f"joined the Ray cluster at {address}" in output
    study = workdir / "results/hpo/original/cased"
    for algorithm in ("random", "asha"):
        assert len(pd.read_csv(study / algorithm / "trials.csv")) == 3, algorithm
        assert len(list((study / algorithm / "tune").glob("trainable_*"))) == 3, algorithm
    # one staging folder per study: <session>/artifacts/<start second>_pid<pid>/tune
    staged = list(Path(temp_dir).glob("session_*/artifacts/*_pid*/tune"))
    assert len({p.parent.name for p in staged}) >= 2, staged


def test_head_start_tries_other_ports_when_one_is_in_use(tmp_path, monkeypatch):
    """`ray start` failed once in CI with "Address already in use": a port chosen free had been
    taken by the time Ray bound it. The head start then tries other ports."""
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    ports = iter([busy.getsockname()[1]])
    real_free_port = ray_head.free_port
    monkeypatch.setattr(ray_head, "free_port", lambda: next(ports, None) or real_free_port())
    head_dir = tmp_path / "ray-head"
    try:
        address = ray_head.start(1, 0, None, head_dir)
        assert address != f"127.0.0.1:{busy.getsockname()[1]}"
        assert (head_dir / "address").read_text().strip() == address
    finally:
        ray_head.stop(head_dir)
        busy.close()
    assert not head_dir.exists()
