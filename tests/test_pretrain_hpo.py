"""The pretraining study (issue 20) at micro size: the refactored MLM loop gives the pretrain
stage's weights byte for byte, resumes exactly, and pretrains on the chosen casing; the study
writes both objectives per trial and epoch and resumes after SIGKILL without retraining finished
trials; the analysis gets its numbers right on a hand-made table; continued pretraining of a
local encoder changes its weights and keeps its tokenizer; bad settings name their key."""

import copy
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from project_copy import ROOT, deep_update

SCRATCH = {
    "vocab_size": 400,
    "hidden_size": 32,
    "num_layers": 1,
    "num_heads": 2,
    "intermediate_size": 64,
    "max_length": 48,
    "pretrain_epochs": 2,
    "pretrain_learning_rate": 0.002,
    "pretrain_batch_size": 8,
}


@pytest.fixture(autouse=True)
def fp32_one_thread(monkeypatch):
    """fp32 (the byte comparisons need no bf16 rounding), and one torch thread: the micro runs
    gain nothing from two, and two threads on a busy machine took 10x as long."""
    import torch

    monkeypatch.setenv("NERHPO_PRECISION", "fp32")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def micro_params(**edits) -> dict:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    micro = {
        "corpus": {"demo": {"train_sentences": 80, "dev_sentences": 20, "test_sentences": 10}},
        "model": {"max_length": 48, "scratch": SCRATCH},
        "train": {"batch_size": 8, "learning_rate": 0.003},
        "pretrain_hpo": {
            "algorithm": "random",
            "objective": "downstream",
            "num_samples": 2,
            "max_epochs": 2,
            "concurrency": 1,
            "probe": {"family": "original", "variant": "cased", "epochs": 1, "every": 1},
            "search_space": {
                "learning_rate": {"type": "loguniform", "low": 0.001, "high": 0.005},
                "mask_probability": {"type": "uniform", "low": 0.1, "high": 0.3},
                "casing": {"type": "choice", "values": ["both", "cased"]},
            },
            "asha": {"grace_period": 1, "reduction_factor": 2},
        },
    }
    return deep_update(deep_update(params, micro), edits)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A micro demo corpus and its original/cased variant."""
    from nerhpo.data.build import build_corpus, build_variant

    root = tmp_path_factory.mktemp("pretrain_hpo")
    params = micro_params()
    build_corpus(params["corpus"], params["seed"], root / "data/corpus")
    build_variant(root / "data/corpus", {}, "cased", 1, 0.5, root / "data/variants/original/cased")
    return root


def sentences(workdir) -> list[list[str]]:
    from nerhpo.data.corpus import read_corpus

    return [s.tokens for s in read_corpus(workdir / "data/corpus/train.tsv")]


# -- the MLM loop ------------------------------------------------------------------------------
def old_pretrain(train_sentences, scratch, seed, out_dir):
    """The pretrain stage's loop before the refactoring (nerhpo 0.x model.pretrain), verbatim
    but for the summary: the reference the refactored one must match byte for byte."""
    import torch
    from transformers import BertForMaskedLM, DataCollatorForLanguageModeling

    from nerhpo.training.model import masked_lm_loss, scratch_config, train_wordpiece
    from nerhpo.training.schedule import warmup_linear_decay

    device = torch.device("cpu")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    words = [s for s in train_sentences if s]
    texts = [" ".join(s) for s in words] + [" ".join(w.lower() for w in s) for s in words]
    tokenizer = train_wordpiece(texts, scratch["vocab_size"])
    model = BertForMaskedLM(scratch_config(len(tokenizer), scratch)).to(device)
    max_len = scratch["max_length"]
    encoded = [
        tokenizer(s, is_split_into_words=True, truncation=True, max_length=max_len)["input_ids"]
        for s in (words + [[w.lower() for w in s] for s in words])
    ]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, return_tensors="pt")
    batch_size, epochs = scratch["pretrain_batch_size"], scratch["pretrain_epochs"]
    steps = epochs * math.ceil(len(encoded) / batch_size)
    optim = torch.optim.AdamW(
        model.parameters(), lr=scratch["pretrain_learning_rate"], weight_decay=0.01, fused=True
    )
    warmup = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda step: warmup_linear_decay(step, steps, warmup, ramp=warmup)
    )
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    model.train()
    for _ in range(epochs):
        rng.shuffle(batches)
        for idx in batches:
            batch = collator([{"input_ids": encoded[i]} for i in idx]).to(device)
            loss = masked_lm_loss(model, batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad(set_to_none=True)
    model.bert.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)


def test_the_pretrain_stage_gives_the_weights_of_the_loop_it_replaced(workdir, tmp_path):
    from nerhpo.training.mlm import pretrain

    text = sentences(workdir)
    old_pretrain(text, SCRATCH, 42, tmp_path / "old")
    pretrain(text, SCRATCH, 42, tmp_path / "new")
    pretrain(text, {**SCRATCH, "pretrain_casing": "both"}, 42, tmp_path / "both")
    for name in ("model.safetensors", "tokenizer.json"):
        old = (tmp_path / "old" / name).read_bytes()
        assert (tmp_path / "new" / name).read_bytes() == old, name
        assert (tmp_path / "both" / name).read_bytes() == old, name  # both: the default


def test_pretrain_casing_chooses_the_text(workdir, tmp_path):
    from nerhpo.training.mlm import pretrain
    from nerhpo.training.model import load_tokenizer

    text = sentences(workdir)
    n = len([s for s in text if s])
    sizes = {}
    for casing in ("cased", "lowercased", "both"):
        summary = pretrain(text, {**SCRATCH, "pretrain_casing": casing}, 42, tmp_path / casing)
        sizes[casing] = summary["sentences"]
    assert sizes == {"cased": n, "lowercased": n, "both": 2 * n}
    vocab = load_tokenizer(tmp_path / "lowercased").get_vocab()
    assert not any(c.isupper() for piece in vocab for c in piece if piece[0] != "[")
    cased = load_tokenizer(tmp_path / "cased").get_vocab()
    assert any(c.isupper() for piece in cased for c in piece if piece[0] != "[")


def test_an_mlm_run_resumed_from_its_checkpoint_continues_identically(workdir, tmp_path):
    import torch

    from nerhpo.training.mlm import MLMSettings, scratch_run

    text = sentences(workdir)
    settings = MLMSettings.from_scratch(SCRATCH, mask_probability=0.2, warmup_ratio=0.05)
    straight = scratch_run(text, SCRATCH, 7, settings)
    straight.train_epoch()
    straight.train_epoch()
    first = scratch_run(text, SCRATCH, 7, settings)
    first.train_epoch()
    first.save_checkpoint(tmp_path / "ckpt")
    torch.manual_seed(123)  # whatever ran in between (another trial in the same worker)
    resumed = scratch_run(text, SCRATCH, 7, settings)
    resumed.load_checkpoint(tmp_path / "ckpt")
    resumed.train_epoch()
    assert resumed.losses == straight.losses and resumed.step == straight.step
    for (name, a), (_, b) in zip(
        straight.model.state_dict().items(), resumed.model.state_dict().items()
    ):
        assert torch.equal(a, b), name


def test_the_heldout_slice_is_seeded_and_apart_and_scored_with_fixed_masks(workdir):
    from nerhpo.training.mlm import heldout_split, scratch_run

    text = sentences(workdir)
    train, held = heldout_split(text, 0.1, 42)
    assert (train, held) == heldout_split(text, 0.1, 42)
    assert len(held) == round(0.1 * len(text)) and len(train) + len(held) == len(text)
    assert sorted(train + held) == sorted(s for s in text if s)  # apart: a split of the text
    run = scratch_run(train, SCRATCH, 42)
    run.set_heldout(held, 43)
    before = run.heldout_loss()
    assert run.heldout_loss() == before  # the same masks every time
    run.train_epoch()
    assert run.heldout_loss() < before


# -- the study ----------------------------------------------------------------------------------
def study_cmd(params_file: str) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "workflow/scripts/pretrain_hpo.py"),
        "--params",
        params_file,
        "--corpus-train",
        "data/corpus/train.tsv",
        "--data",
        "data/variants/original/cased",
        "--out",
        "results/pretrain_hpo",
    ]


@pytest.mark.slow
def test_the_study_records_both_objectives_and_resumes_after_sigkill(workdir, tmp_path):
    samples, epochs = 6, 2
    params = micro_params(pretrain_hpo={"num_samples": samples, "max_epochs": epochs})
    (workdir / "params-study.yaml").write_text(yaml.safe_dump(params))
    out = workdir / "results/pretrain_hpo"
    log = open(tmp_path / "first.log", "w")
    proc = subprocess.Popen(
        study_cmd("params-study.yaml"),
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 300
    while time.time() < deadline:
        done = [p for p in (out / "tune").glob("*/progress.csv") if len(pd.read_csv(p)) >= epochs]
        if done:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the study did not get going: " + (tmp_path / "first.log").read_text()[-2000:])
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "trials.csv").exists(), "the study ended before it was killed"
    finished = {p.parent.name for p in done}
    readme = workdir / "README.md"
    readme.write_text(
        "# x\n\n<!-- BEGIN pretraining -->\nNOT YET\n<!-- END pretraining -->\ntail\n"
    )
    second = subprocess.run(
        [*study_cmd("params-study.yaml"), "--readme", "README.md"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "resuming the study" in second.stdout
    # the trials seen finished before the kill were not trained again (but for at most the
    # one epoch by which Tune's saved state can trail the progress files)
    for name in finished:
        assert len(pd.read_csv(out / "tune" / name / "progress.csv")) <= epochs + 1
    trials = pd.read_csv(out / "trials.csv", dtype={"trial_id": str})
    assert trials.trial_id.nunique() == samples
    assert len(trials) == samples * epochs  # random search: every trial every epoch, once
    assert trials.heldout_mlm_loss.notna().all() and trials.dev_f1.notna().all()
    assert (trials.heldout_perplexity - trials.heldout_mlm_loss.map(math.exp)).abs().max() < 1e-6
    assert trials.dev_f1.between(0, 1).all() and (trials.downstream_seconds > 0).all()
    assert set(trials.casing) <= {"both", "cased"}
    best = json.loads((out / "best.json").read_text())
    top = trials.dev_f1.max()
    assert best["dev_f1"] == pytest.approx(top) and best["metric"] == "dev_f1"
    # the best encoder loads as the fine-tuning loads results/pretrained/
    from nerhpo.training.model import load_token_classifier, load_tokenizer

    load_tokenizer(out / "encoder")
    load_token_classifier(out / "encoder", ["O", "B-LOC", "I-LOC"])
    findings = json.loads((out / "findings/pretraining.json").read_text())
    assert findings["trials"] == samples and (out / "findings/pretraining.png").stat().st_size
    assert "## Pretraining" in (out / "findings/pretraining.md").read_text()
    # the probe's model also on its dev text lowercased: the pretraining casing's effect
    assert trials.dev_f1_lowercased.between(0, 1).all()
    casing = next(i for i in findings["importance"] if i["name"] == "casing")
    assert set(casing["mean_downstream_lowercased"]) == set(casing["mean_downstream"])
    # fine-tuning HPO on the best encoder (no main study here to set it beside)
    tuned = json.loads((out / "finetune/best.json").read_text())
    assert (tuned["family"], tuned["train_variant"], tuned["algorithm"]) == (
        "original",
        "cased",
        "asha",
    )
    assert findings["finetune"]["default"] is None
    assert findings["finetune"]["tuned"]["dev_f1"] == tuned["dev_f1"]
    # the README's section, written by the stage; the rest of the README untouched
    text = readme.read_text()
    assert text.startswith("# x\n\n<!-- BEGIN pretraining -->\n") and text.endswith("tail\n")
    assert "NOT YET" not in text and "Fine-tuning HPO on the best encoder found" in text
    assert "(results/pretrain_hpo/findings/pretraining.png)" in text
    assert "has not run, so nothing to compare with" in text


@pytest.mark.slow
def test_asha_on_the_proxy_stops_trials_and_picks_the_lowest_heldout_loss(workdir, tmp_path):
    from nerhpo.search.pretrain_study import make_pretrain_study, run_pretrain_study

    params = micro_params(
        pretrain_hpo={"algorithm": "asha", "objective": "proxy", "num_samples": 4}
    )
    study = make_pretrain_study(
        params,
        workdir / "data/corpus/train.tsv",
        workdir / "data/variants/original/cased",
        tmp_path / "asha",
    )
    run_pretrain_study(study)
    trials = pd.read_csv(tmp_path / "asha/trials.csv", dtype={"trial_id": str})
    assert trials.groupby("trial_id").epoch.max().lt(2).any()  # some stopped at the rung
    best = json.loads((tmp_path / "asha/best.json").read_text())
    assert best["heldout_mlm_loss"] == pytest.approx(trials.heldout_mlm_loss.min())


# -- the analysis -------------------------------------------------------------------------------
def hand_made_table() -> pd.DataFrame:
    """Five trials, two epochs each; at the last epoch the held-out loss falls exactly as dev
    F1 rises (rho -1); learning_rate rises with dev F1 (rho 1), mask_probability falls with it."""
    rows = []
    for t in range(5):
        for epoch in (1, 2):
            rows.append(
                {
                    "trial": t,
                    "trial_id": f"t{t}",
                    "status": "TERMINATED",
                    "epoch": epoch,
                    "learning_rate": 0.001 * (t + 1),
                    "mask_probability": 0.3 - 0.04 * t,
                    "batch_size": 16,
                    "casing": "both" if t >= 3 else "cased",
                    "heldout_mlm_loss": 6.0 - 0.5 * t - 0.2 * epoch,
                    "heldout_perplexity": math.exp(6.0 - 0.5 * t - 0.2 * epoch),
                    "dev_f1": 0.1 * t + 0.05 * epoch,
                    "train_seconds": 2.0,
                    "proxy_seconds": 0.1,
                    "downstream_seconds": 3.0,
                }
            )
    return pd.DataFrame(rows)


def test_the_analysis_numbers_on_a_hand_made_table(tmp_path):
    from nerhpo.analysis.pretraining import (
        analyse,
        bootstrap_interval,
        spearman,
        write_pretraining_findings,
    )

    table = hand_made_table()
    r = analyse(table, seed=42)
    assert r["trials"] == 5 and r["scored_trials"] == 5
    assert r["trials_correlation"]["rho"] == pytest.approx(-1.0)
    assert r["trials_correlation"]["ci_low"] == pytest.approx(-1.0)
    assert r["trials_correlation"]["ci_high"] == pytest.approx(-1.0)
    # over every (trial, epoch): one swap breaks the perfect order (scipy agrees)
    from scipy.stats import spearmanr

    expected = spearmanr(table.heldout_mlm_loss, table.dev_f1).statistic
    assert r["epochs_correlation"]["rho"] == pytest.approx(expected, abs=1e-4)
    assert r["common_epoch"] == 2 and r["common_epoch_correlation"]["rho"] == pytest.approx(-1.0)
    assert r["cost"] == {
        "pretraining_seconds": 20.0,
        "proxy_seconds": 1.0,
        "downstream_seconds": 30.0,
        "epochs": 10,
        "probes": 10,
        "proxy_seconds_per_epoch": 0.1,
        "downstream_seconds_per_probe": 3.0,
        "pretraining_seconds_per_epoch": 2.0,
    }
    importance = {i["name"]: i for i in r["importance"]}
    assert importance["learning_rate"]["rho_downstream"] == pytest.approx(1.0)
    assert importance["mask_probability"]["rho_downstream"] == pytest.approx(-1.0)
    assert "batch_size" not in importance  # not varied
    assert importance["casing"]["mean_downstream"] == {"both": 0.45, "cased": 0.2}
    assert r["same_best"] and r["best_downstream"]["trial_id"] == "t4"
    assert "proxy ranks" in r["advice"] and "weak evidence" in r["advice"]  # 5 trials: hedged
    assert "learning_rate" in r["advice"]
    # Spearman with ties and the bootstrap, against scipy, and seeded
    x, y = [1, 2, 2, 3, 5, 4], [1, 3, 2, 2, 6, 5]
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)
    assert bootstrap_interval(x, y, 1) == bootstrap_interval(x, y, 1)
    low, high = bootstrap_interval(x, y, 1)
    assert -1 <= low <= spearman(x, y) <= high <= 1
    # the files
    table.to_csv(tmp_path / "trials.csv", index=False)
    write_pretraining_findings(tmp_path / "trials.csv", tmp_path / "findings", 42)
    saved = json.loads((tmp_path / "findings/pretraining.json").read_text())
    assert saved["trials_correlation"]["rho"] == pytest.approx(-1.0)
    md = (tmp_path / "findings/pretraining.md").read_text()
    assert "| trials, each at its last scored epoch | 5 | -1.00 |" in md
    assert (tmp_path / "findings/pretraining.png").read_bytes()[:4] == b"\x89PNG"


def test_the_analysis_says_so_when_dev_f1_does_not_vary():
    from nerhpo.analysis.pretraining import analyse

    table = hand_made_table().assign(dev_f1=0.0)
    r = analyse(table, seed=42)
    assert r["trials_correlation"]["rho"] is None and not r["downstream_varies"]
    assert "did not vary" in r["advice"]


# -- continued pretraining ------------------------------------------------------------------------
def save_tiny_bert(directory: Path, text: list[list[str]]) -> Path:
    import torch
    from transformers import BertConfig, BertModel

    from nerhpo.training.model import train_wordpiece

    torch.manual_seed(0)
    tokenizer = train_wordpiece([" ".join(s) for s in text], 300)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    return directory


def test_continued_pretraining_changes_the_weights_and_keeps_the_tokenizer(workdir, tmp_path):
    from safetensors.torch import load_file

    from nerhpo.core.layout import model_source
    from nerhpo.training.model import load_token_classifier, load_tokenizer
    from nerhpo.training.pretraining import run_pretrain

    local = save_tiny_bert(tmp_path / "local", sentences(workdir))
    params = micro_params(
        model={
            "name_or_path": str(local),
            "continue_pretraining": {"epochs": 1, "learning_rate": 0.005, "batch_size": 8},
        }
    )
    out = tmp_path / "pretrained"
    summary = run_pretrain(params, workdir / "data/corpus/train.tsv", out)
    assert len(summary["mlm_loss_per_epoch"]) == 1
    assert model_source(params, out) == out  # every training then fine-tunes the continued one
    before, after = (
        load_file(str(local / "model.safetensors")),
        load_file(str(out / "model.safetensors")),
    )
    shared = [k for k in before if k in after or f"bert.{k}" in after]
    assert shared and set(after) <= set(before) | {f"bert.{k}" for k in before}
    changed = [k for k in before if k in after and not (before[k] == after[k]).all()]
    assert "embeddings.word_embeddings.weight" in changed
    assert load_tokenizer(out).get_vocab() == load_tokenizer(local).get_vocab()
    # the same tokenizer file, but for the truncation state its last call left in it
    saved = [json.loads((d / "tokenizer.json").read_text()) for d in (out, local)]
    for s in saved:
        s.pop("truncation"), s.pop("padding")
    assert saved[0] == saved[1]
    load_token_classifier(out, ["O", "B-PER", "I-PER"])  # no encoder weight missing
    # epochs 0 (the default): the local encoder is checked and used as it is
    off = micro_params(model={"name_or_path": str(local)})
    assert run_pretrain(off, workdir / "data/corpus/train.tsv", tmp_path / "off")["parameters"]
    assert model_source(off, tmp_path / "off") == str(local)


# -- settings and wiring ----------------------------------------------------------------------------
def test_bad_pretrain_hpo_settings_name_their_key():
    from nerhpo.core.config import ParamsError, validate_params

    validate_params(micro_params())
    bad = copy.deepcopy(micro_params())
    bad["pretrain_hpo"]["objective"] = "both"
    bad["pretrain_hpo"]["probe"]["variant"] = "upside-down"
    bad["pretrain_hpo"]["search_space"]["mask_probability"]["high"] = 1.5
    bad["pretrain_hpo"]["search_space"]["casing"]["values"] = ["both", "title"]
    bad["model"]["scratch"]["pretrain_casing"] = "title"
    with pytest.raises(ParamsError) as err:
        validate_params(bad)
    text = str(err.value)
    for key in (
        "pretrain_hpo.objective",
        "pretrain_hpo.probe.variant",
        "pretrain_hpo.search_space.mask_probability.high",
        "pretrain_hpo.search_space.casing",
        "model.scratch.pretrain_casing",
    ):
        assert f"  - {key}: " in text, key
    every = micro_params(pretrain_hpo={"probe": {"every": 2}})
    with pytest.raises(ParamsError, match="pretrain_hpo.probe.every: 2, but objective downstream"):
        validate_params(every)
    validate_params(micro_params(pretrain_hpo={"objective": "proxy", "probe": {"every": 2}}))
    scratch = micro_params(model={"continue_pretraining": {"epochs": 1, "learning_rate": 1e-4}})
    with pytest.raises(ParamsError, match="model.continue_pretraining.epochs: 1, but"):
        validate_params(scratch)


def test_the_study_is_outside_the_default_target_of_both_tools(tmp_path):
    from nerhpo.pipeline import stages

    assert "pretrain_hpo" not in yaml.safe_load(stages.dvc_yaml())["stages"]
    on_request = yaml.safe_load(stages.on_request_dvc_yaml())
    stage = on_request["stages"]["pretrain_hpo"]
    assert stage["wdir"] == "../.." and "${" not in stages.on_request_dvc_yaml()
    # written only on request, and not tracked: DVC checks every dvc.yaml of a repository
    script = [sys.executable, str(ROOT / "workflow/scripts/write_dvc_yaml.py")]
    out = ["--out", str(tmp_path / "dvc.yaml"), "--out-on-request", str(tmp_path / "on.yaml")]
    subprocess.run([*script, *out], check=True)
    assert not (tmp_path / "on.yaml").exists()
    subprocess.run([*script, *out, "--on-request"], check=True)
    assert (tmp_path / "on.yaml").read_text() == stages.on_request_dvc_yaml()
    tracked = subprocess.run(
        ["git", "ls-files", stages.ON_REQUEST_DVC_YAML], cwd=ROOT, capture_output=True, text=True
    )
    assert tracked.stdout == ""
    assert "src/nerhpo/training/mlm.py" in stage["deps"]
    assert stage["params"] == [
        "seed",
        "model.scratch",
        "model.max_length",
        "train",
        "pretrain_hpo",
        "hpo",
    ]
    snakefile = (ROOT / "workflow/rules/common.smk").read_text()
    default_targets = snakefile[snakefile.index("def all_targets") :].split("\n\n\n")[0]
    assert "pretrain_hpo" not in default_targets.lower()
    assert (
        subprocess.run(
            [sys.executable, str(ROOT / "workflow/scripts/pretrain_hpo.py"), "--help"],
            capture_output=True,
        ).returncode
        == 0
    )
