"""The throughput benchmark on a micro model and 60 real GermEval sentences: all three runs; its
rule and script without a data folder."""

import json
import subprocess
import sys

import pytest
import yaml
from project_copy import ROOT, make_copy, run

from nerhpo.measure.benchmark import BenchmarkOptions, run_benchmark

FIELDS = {
    "run",
    "device",
    "tokens_per_s",
    "padding_share",
    "peak_gpu_mem_gb",
    "bf16_peak_share",
    "dev_f1",
    "epochs",
    "seconds",
}


def benchmark_lines(opts: BenchmarkOptions, emit=None) -> list[dict]:
    """Run the benchmark in this process; restore torch's thread count (it sets its own)."""
    import torch

    threads = torch.get_num_threads()
    out = []
    try:
        run_benchmark(opts, emit=emit or out.append)
    finally:
        torch.set_num_threads(threads)
    return out


@pytest.fixture(scope="module")
def lines(germeval_dir):
    return benchmark_lines(
        BenchmarkOptions(
            data=germeval_dir,
            train_file="NER-de-dev.tsv",
            dev_file="NER-de-dev.tsv",
            max_sentences=60,
            size="micro",
            epochs=1,
            runs=("seed", "trainer-best", "ours"),
            threads=1,
        )
    )


def test_one_line_per_run_then_summary(lines):
    assert [line.get("run") for line in lines] == ["seed", "trainer-best", "ours", None]
    for line in lines[:-1]:
        assert FIELDS <= line.keys()
        assert line["tokens_per_s"] > 0
        assert 0 <= line["padding_share"] < 1
        assert 0.0 <= line["dev_f1"] <= 1.0
        assert line["epochs"] == 1 and line["seconds"] > 0
        if line["device"] == "cpu":
            assert line["peak_gpu_mem_gb"] is None and line["bf16_peak_share"] is None
    summary = lines[-1]
    assert {"ratio_vs_seed", "ratio_vs_trainer_best", "f1_gap"} <= summary.keys()
    assert summary["ratio_vs_seed"] > 0 and summary["ratio_vs_trainer_best"] > 0
    json.dumps(lines)  # every line is JSON-serialisable


def test_same_data_and_less_padding_for_ours(lines):
    seed, best, ours = lines[:3]
    # every run trains on the same tokens, one epoch
    assert seed["train_tokens"] == best["train_tokens"] == ours["train_tokens"]
    assert ours["padding_share"] < seed["padding_share"]
    assert seed["batch_size"] == 8 and best["batch_size"] == ours["batch_size"] == 32
    assert best["sampling"] == "group_by_length"


def test_stdout_is_json_lines_only(germeval_dir, capfd):
    """Library chatter (tokenizer trainer, Trainer logs) must not reach stdout."""
    benchmark_lines(
        BenchmarkOptions(
            data=germeval_dir,
            train_file="NER-de-dev.tsv",
            max_sentences=20,
            size="micro",
            runs=("seed",),
            threads=1,
        ),
        emit=lambda line: print(json.dumps(line), flush=True),
    )
    out = capfd.readouterr().out.splitlines()
    assert len(out) == 2
    assert [json.loads(line).get("run") for line in out] == ["seed", None]


def test_script_help():
    result = subprocess.run(
        [sys.executable, str(ROOT / "workflow/scripts/benchmark.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for flag in ("--data", "--size", "--runs", "--batch-size", "--packed", "--compile"):
        assert flag in result.stdout


def test_init_fine_tunes_a_saved_encoder(germeval_dir, tmp_path):
    """--init: every run starts from the same saved encoder (weights and tokenizer), not from a
    random BERT of the preset size; the summary names it."""
    import torch
    from transformers import BertModel

    from nerhpo.data.corpus import read_corpus
    from nerhpo.training.model import scratch_config, train_wordpiece

    sentences = read_corpus(germeval_dir / "NER-de-dev.tsv")[:40]
    tokenizer = train_wordpiece([" ".join(s.tokens) for s in sentences], 300)
    size = {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64}
    torch.manual_seed(0)
    encoder = BertModel(scratch_config(len(tokenizer), {**size, "max_length": 64}))
    encoder.save_pretrained(tmp_path, safe_serialization=True)
    tokenizer.save_pretrained(tmp_path)
    out = benchmark_lines(
        BenchmarkOptions(
            data=germeval_dir,
            train_file="NER-de-dev.tsv",
            max_sentences=40,
            init=tmp_path,
            runs=("trainer-best", "ours"),
            threads=1,
        )
    )
    summary = out[-1]
    assert summary["size"] == str(tmp_path)
    assert summary["max_length"] == 64  # the encoder's position table, not the default 128
    # the saved encoder plus a classifier head (hidden 32 -> labels), not the tiny preset's 5M
    body = sum(p.numel() for n, p in encoder.named_parameters() if not n.startswith("pooler"))
    head = summary["parameters"] - body
    assert head > 0 and head % 33 == 0  # 32 weights + 1 bias per label
    assert [line["run"] for line in out[:-1]] == ["trainer-best", "ours"]


BENCHMARK_DATA_ERROR = (
    "error: benchmark.data: set it to a folder with NER-de-test.tsv and NER-de-dev.tsv"
)


def test_the_rule_needs_benchmark_data_and_reads_the_folder_it_names(tmp_path, germeval_dir):
    """params.yaml leaves benchmark.data empty (the data is the user's): asking for a benchmark
    then fails in one line naming the key, before any job; set, the job reads that folder."""
    assert yaml.safe_load((ROOT / "params.yaml").read_text())["benchmark"]["data"] == ""
    copy = make_copy(tmp_path / "project", git=False)
    target = ["snakemake", "-n", "-c1", "results/benchmark/tiny.jsonl"]
    proc = run(target, copy, check=False)
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1] == BENCHMARK_DATA_ERROR
    assert "Traceback" not in proc.stderr + proc.stdout
    dry = run([*target, "-p", "--config", f"benchmark={{data: {germeval_dir}}}"], copy)
    assert f"--data {germeval_dir} --size tiny" in dry.stdout


def test_the_script_refuses_an_empty_data_folder():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "workflow/scripts/benchmark.py"), "--data", ""],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and proc.stderr.strip() == (
        "error: --data is empty: give a folder with NER-de-test.tsv and NER-de-dev.tsv"
    )
