"""HPO studies through the real Ray Tune on a tiny model: every algorithm, PBT, BOHB budgets,
ASHA early stopping, failing trials, SIGKILL and resume."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from project_copy import ROOT, assert_resumed_epochs, deep_update

pytestmark = pytest.mark.slow

TINY_MODEL = {
    "vocab_size": 2000,
    "hidden_size": 64,
    "num_layers": 1,
    "num_heads": 2,
    "intermediate_size": 128,
    "max_length": 64,
    "pretrain_epochs": 1,
    "pretrain_learning_rate": 0.001,
    "pretrain_batch_size": 16,
}


@pytest.fixture(autouse=True)
def fp32(monkeypatch):
    """These tests check the schedulers' mechanics (ASHA stops, BOHB budgets, PBT perturbs),
    which need trials whose dev F1 differ after one epoch. The tiny model barely learns, and with
    bf16 rounding every trial here scored 0.0 at ASHA's first rungs (nothing to stop), so these
    run in fp32; the bf16 path is tested in test_trial_trainer and the end-to-end runs."""
    monkeypatch.setenv("NERHPO_PRECISION", "fp32")


def hpo_cmd(params_file: str, algorithm: str = "random") -> list[str]:
    """The HPO script on the tiny data's original/cased variant, as a pipeline job runs it."""
    return [
        sys.executable,
        str(ROOT / "workflow/scripts/hpo.py"),
        "--params",
        params_file,
        "--family",
        "original",
        "--variant",
        "cased",
        "--algorithm",
        algorithm,
        "--data",
        "data/variants/original/cased",
        "--out",
        f"results/hpo/original/cased/{algorithm}",
    ]


def tiny_hpo_params(**edits):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params = deep_update(
        params,
        {
            "corpus": {"demo": {"train_sentences": 200, "dev_sentences": 40, "test_sentences": 30}},
            "model": {"max_length": 64, "scratch": TINY_MODEL},
            "train": {"learning_rate": 0.003, "batch_size": 4, "epochs": 3},
            "hpo": {
                "num_samples": 4,
                "max_epochs": 3,
                "concurrency": 1,
                "search_space": {
                    "learning_rate": {"type": "loguniform", "low": 0.001, "high": 0.01},
                    "batch_size": {"type": "choice", "values": [4, 8]},
                },
                "asha": {"grace_period": 1, "reduction_factor": 2},
                "tpe": {"grace_period": 1, "reduction_factor": 2},
                "pbt": {"perturbation_interval": 1, "quantile_fraction": 0.5},
            },
        },
    )
    return deep_update(params, edits)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """Tiny demo data (one family/variant) and a pretrained tiny encoder, made once."""
    return make_workdir(tmp_path_factory.mktemp("hpo"))


def make_workdir(root):
    """Tiny demo data (original/cased) and a pretrained tiny encoder under ``root``."""
    from nerhpo.data.build import build_corpus, build_variant
    from nerhpo.training.pretraining import run_pretrain

    params = tiny_hpo_params()
    build_corpus(params["corpus"], params["seed"], root / "data/corpus")
    build_variant(root / "data/corpus", {}, "cased", 1, 0.5, root / "data/variants/original/cased")
    run_pretrain(params, root / "data/corpus/train.tsv", root / "results/pretrained", threads=1)
    return root


def study_for(workdir, params, algorithm, name=None):
    from nerhpo.search.study import make_study

    return make_study(
        params,
        "original",
        "cased",
        algorithm,
        workdir / "data/variants/original/cased",
        workdir / "results/pretrained",
        workdir / "results/hpo" / (name or algorithm),
    )


def reloaded_dev_f1(study):
    from nerhpo.data.corpus import read_corpus
    from nerhpo.training.model import load_finetuned
    from nerhpo.training.trainer import encode, f1_score, predict

    model, tokenizer, labels = load_finetuned(study.out_dir / "model")
    dev = encode(
        read_corpus(study.data_dir / "dev.tsv"),
        tokenizer,
        {label: i for i, label in enumerate(labels)},
        study.max_length,
    )
    return f1_score(dev.gold, predict(model, dev, tokenizer.pad_token_id))


def progress_frames(out_dir):
    return [pd.read_csv(p) for p in sorted((out_dir / "tune").glob("*/progress.csv"))]


def test_the_hpo_driver_prepares_a_study_without_torch(workdir):
    """The driver reads the sentences and hands them to Ray's workers, which encode them: the
    tokeniser (transformers, and through it torch) cost every HPO job about 2 s of imports."""
    import pickle

    study = study_for(workdir, tiny_hpo_params(), "random", name="driver")
    (workdir / "driver-study.pkl").write_bytes(pickle.dumps(study))
    code = (
        "import pickle, sys\n"
        "from nerhpo.search.identity import study_fingerprint\n"
        "from nerhpo.search.runner import prepare_payload\n"
        "study = pickle.loads(open('driver-study.pkl', 'rb').read())\n"
        "payload = prepare_payload(study, study_fingerprint(study))\n"
        "print(len(payload['train']), len(payload['dev']))\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=workdir, capture_output=True, text=True, check=True
    )
    sizes, imported = out.stdout.split("\n")[:2]
    assert sizes == "200 40"
    assert imported == "[]", out.stderr


@pytest.mark.parametrize("algorithm", ["asha", "bohb", "pbt", "random", "tpe", "gp"])
def test_each_algorithm_runs_a_study(workdir, algorithm):
    from nerhpo.search.runner import run_study

    # one trial at a time, as on the CPU demo: PBT's population must still take turns
    study = study_for(workdir, tiny_hpo_params(hpo={"concurrency": 1}), algorithm)
    summary = run_study(study)
    trials = pd.read_csv(study.out_dir / "trials.csv")
    assert len(trials) == 4 and trials.trial_id.is_unique
    assert set(trials.status) <= {"TERMINATED", "STOPPED"}
    assert trials.epochs.between(1, 3).all()
    best = json.loads((study.out_dir / "best.json").read_text())
    assert best["dev_f1"] == pytest.approx(trials.best_dev_f1.max())
    assert summary["epochs"] == trials.epochs.sum()
    # where the time went: training and evaluation are measured inside the study's wall time
    # (on this tiny data evaluating can take as long as training: CI had 2.8 s of each; and
    # PBT's tiny evaluations summed to under 0.05 s, which the summary rounds to 0.0)
    assert summary["train_seconds"] > 0 and summary["eval_share"] > 0
    assert summary["train_seconds"] + summary["eval_seconds"] < summary["wall_seconds"]
    assert 0 < summary["overhead_share"] < 1
    # the exported model reproduces the recorded dev F1
    assert reloaded_dev_f1(study) == pytest.approx(best["dev_f1"], abs=1e-6)
    # retention: per trial at most the best and the latest checkpoint are kept
    for trial_dir in (study.out_dir / "tune").glob("trainable_*"):
        assert len(list(trial_dir.glob("checkpoint_*"))) <= 2
        # the loggers the study reads back, and not Tune's TensorBoard logger, whose import
        # of tensorboardX (and torch) cost every HPO driver 1.1 s
        assert (trial_dir / "progress.csv").exists() and (trial_dir / "result.json").exists()
        assert not list(trial_dir.glob("events.out.tfevents*"))
    frames = progress_frames(study.out_dir)
    if algorithm == "asha":
        assert (trials.status == "STOPPED").any(), "ASHA stopped no trial early"
    if algorithm == "bohb":
        assert trials.epochs.nunique() > 1, "BOHB gave every trial the same budget"
    if algorithm == "pbt":
        changed = [f for f in frames if f["hp_learning_rate"].nunique() > 1]
        # with one trial at a time, that proves the population took turns: PBT exploits only
        # between live trials (it used to run them one after another and never exploit)
        assert changed, "PBT perturbed no trial's learning rate"


def test_pbt_with_tied_scores_ends(workdir):
    """Every trial at dev F1 0.0 (a learning rate too small to learn anything), taking turns:
    asynchronous PBT cloned a trial paused an epoch behind, went back an epoch and looped
    forever (CI); synchronous PBT with a stop at max_epochs trains each trial max_epochs."""
    from nerhpo.search.runner import run_study

    params = tiny_hpo_params(
        hpo={
            "num_samples": 3,
            "max_epochs": 2,
            "search_space": {"learning_rate": {"type": "loguniform", "low": 1e-9, "high": 2e-9}},
        }
    )
    study = study_for(workdir, params, "pbt", name="pbt-ties")
    summary = run_study(study)
    trials = pd.read_csv(study.out_dir / "trials.csv")
    assert (trials.epochs == 2).all() and (trials.status == "TERMINATED").all()
    assert summary["best_dev_f1"] < 0.05  # next to nothing learned: scores tie or nearly
    assert sum(len(f) for f in progress_frames(study.out_dir)) <= 3 * 2 + 3


def test_pbt_is_reproducible(workdir):
    """Two runs of one seeded PBT study perturb alike (the Snakemake and DVC tables must agree).
    The trials take turns in one worker process: Tune killed the idle actor at a perturbation
    point with every trial paused, and the next trial imported torch and transformers anew."""
    from nerhpo.search.runner import run_study

    params = tiny_hpo_params(hpo={"num_samples": 3, "max_epochs": 3})
    tables = []
    for name in ("pbt-a", "pbt-b"):
        study = study_for(workdir, params, "pbt", name=name)
        run_study(study)
        pids = pd.concat(progress_frames(study.out_dir)).pid
        assert pids.nunique() == 1, f"{name}: trials ran in {pids.nunique()} worker processes"
        trials = pd.read_csv(workdir / "results/hpo" / name / "trials.csv")
        tables.append(trials.drop(columns=["trial_id", "wall_seconds", "node", "node_ip"]))
    pd.testing.assert_frame_equal(tables[0], tables[1])


def test_failing_trial_is_recorded_and_study_goes_on(workdir):
    """A learning rate of 1e12 makes the loss non-finite: that trial fails, the others finish."""
    from nerhpo.search.runner import run_study

    params = tiny_hpo_params(
        hpo={
            "search_space": {
                "learning_rate": {
                    "type": "loguniform",
                    "low": 1e-3,
                    "high": 1e-2,
                    "grid": [3e-3, 1e12],
                },
                "batch_size": {"type": "choice", "values": [8]},
            }
        }
    )
    study = study_for(workdir, params, "grid", "grid-failing")
    run_study(study)
    trials = pd.read_csv(study.out_dir / "trials.csv").fillna("")
    assert len(trials) == 2
    failed = trials[trials.status == "ERROR"]
    assert len(failed) == 1
    assert "loss is" in failed.error.iloc[0] or "nan" in failed.error.iloc[0].lower()
    assert (trials.status == "TERMINATED").sum() == 1


def test_study_with_no_finished_trial_fails_clearly(workdir):
    from nerhpo.search.runner import run_study
    from nerhpo.search.study import StudyFailed

    params = tiny_hpo_params(
        hpo={
            "search_space": {
                "learning_rate": {"type": "loguniform", "low": 1e-3, "high": 1e-2, "grid": [1e12]},
                "batch_size": {"type": "choice", "values": [8]},
            }
        }
    )
    study = study_for(workdir, params, "grid", "grid-all-fail")
    with pytest.raises(StudyFailed, match="no trial finished"):
        run_study(study)
    assert not (study.out_dir / "best.json").exists()


def test_sigkill_and_resume(workdir, tmp_path):
    """Kill the HPO script mid-study with SIGKILL; the same command resumes without retraining."""
    samples = 10
    params = tiny_hpo_params(hpo={"num_samples": samples, "max_epochs": 3})
    (workdir / "params-resume.yaml").write_text(yaml.safe_dump(params))
    cmd = hpo_cmd("params-resume.yaml")
    out = workdir / "results/hpo/original/cased/random"
    log = open(tmp_path / "first.log", "w")
    proc = subprocess.Popen(
        cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    # Tune copies progress.csv into tune/ when it saves its state (every second, set by
    # nerhpo.search.runner): kill as soon as two trials are seen finished there, with 8 still to go
    deadline = time.time() + 300
    while time.time() < deadline:
        done = list((out / "tune").glob("*/progress.csv"))
        finished = [p for p in done if len(pd.read_csv(p)) >= 3]
        if len(finished) >= 2:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the study did not get going: " + (tmp_path / "first.log").read_text()[-2000:])
    os.killpg(proc.pid, signal.SIGKILL)  # the script and the Ray processes it started
    proc.wait()
    assert not (out / "trials.csv").exists(), "the study ended before it was killed"
    trained_before = {p.parent.name for p in finished}
    second = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "resuming the study" in second.stdout
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == samples and trials.trial_id.is_unique
    assert list(trials.trial) == list(range(samples))  # in the order Tune created them
    # (a trial killed before its first report may leave an empty directory behind)
    reported = [p.parent for p in (out / "tune").glob("trainable_*/progress.csv")]
    assert len(reported) == samples
    for trial_dir in reported:
        epochs = list(pd.read_csv(trial_dir / "progress.csv").training_iteration)
        assert_resumed_epochs(epochs, max_epochs=3)
        assert max(epochs) == 3
    # the trials seen finished before the kill were not trained again
    assert trained_before <= {p.name for p in reported}
    for name in trained_before:
        assert len(pd.read_csv(out / "tune" / name / "progress.csv")) <= 4


def test_the_epoch_line_names_loss_f1_speed_and_the_study_eta():
    from types import SimpleNamespace

    from nerhpo.search.runner import epoch_line

    progress = SimpleNamespace(epochs=5, best=0.81234, eta_seconds=lambda: 35.4)
    result = {
        "training_iteration": 2,
        "train_loss": 0.1189,
        "dev_f1": 0.77031,
        "train_tokens": 21900,
        "train_seconds": 2.0,
    }
    assert epoch_line("abc_00001", result, 3, progress) == (
        "trial abc_00001 epoch 2/3: loss 0.119, dev F1 0.7703, 10,950 training tokens/s; "
        "study: 5 epoch(s) done, best 0.8123, ETA <= 35 s"
    )
