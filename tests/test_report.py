"""The report stage on small hand-made results: table shapes, bolding, algorithm numbers,
README markers, figures and byte-identical reruns."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from argparse import Namespace
from pathlib import Path

import pytest
import yaml

from nerhpo.analysis import report

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ["original", "simple"]
VARIANTS = ["cased", "uncased", "uncased-cased-mix"]
ALGORITHMS = ["asha", "bohb", "pbt"]
EVAL_VARIANTS = [
    "cased",
    "uncased",
    "uncased-cased-mix",
    "uncased-cased-both",
    "ne-lower",
    "ne-lower-cased-mix",
    "ne-lower-cased-both",
]
BATCH_SIZES = [16, 32, 64, 128, 256]
MTIME = 1_700_000_000  # 2023-11-14 22:13:20 UTC
TRIALS_CSV = (
    "trial_id,status,epochs,best_dev_f1,learning_rate,weight_decay,warmup_ratio,"
    "attention_dropout,hidden_dropout,batch_size,wall_seconds,error\n"
    "t1,TERMINATED,8,0.6,0.001,0.01,0.1,0.1,0.1,16,100.0,\n"
    "t2,STOPPED,2,0.5,0.002,0.02,0.05,0.05,0.05,8,20.0,\n"
    "t3,STOPPED,4,0.7,0.0008,0.03,0.15,0.12,0.02,32,40.0,\n"
    "t4,ERROR,1,,0.003,0.04,0.0,0.0,0.0,16,5.0,RuntimeError: boom\n"
)
# without progress.csv the curve is one point per trial: epochs 8, 10, 14, 15 and best-so-far
# 0.6, 0.6, 0.7, 0.7 -> 99% of 0.7 (0.693) first at 14 epochs
FALLBACK_TO_99 = 14
# original/cased/asha has progress.csv files: rows in (timestamp, trial) order are
# a1 .30, b1 .60, a2 .50, a3 .55 (t=104), b2 .62 (t=104) -> best-so-far .30 .60 .60 .60 .62,
# 99% of .62 (.6138) first at epoch 5
PROGRESS = {
    "trainable_a": [("t_a", 100, 1, 0.30), ("t_a", 102, 2, 0.50), ("t_a", 104, 3, 0.55)],
    "trainable_b": [("t_b", 101, 1, 0.60), ("t_b", 104, 2, 0.62)],
}
PROGRESS_TO_99 = 5


def f1(split: str, k: int, j: int) -> float:
    """A distinct value per model k and eval variant j, with a different best model per column."""
    base = 0.5 + 0.02 * ((k * 5 + j * 7) % 18) + 0.001 * j
    return round(base - (0.03 if split == "test" else 0.0), 4)


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")


def build_results(root: Path) -> Path:
    results = root / "results"
    k = 0
    for family in FAMILIES:
        for variant in VARIANTS:
            for algorithm in ALGORITHMS:
                scores = {
                    split: {
                        v: {"precision": 0.5, "recall": 0.5, "f1": f1(split, k, j), "per_type": {}}
                        for j, v in enumerate(EVAL_VARIANTS)
                    }
                    for split in ("dev", "test")
                }
                write_json(
                    results / "eval" / family / variant / f"{algorithm}.json",
                    {"family": family, "train_variant": variant, "algorithm": algorithm,
                     "model_dir": "x", "seqeval_mode": "default", "scores": scores, "seconds": 1},
                )  # fmt: skip
                hpo = results / "hpo" / family / variant / algorithm
                config = {
                    "learning_rate": 0.00123456,
                    "weight_decay": 0.01 * (k + 1),
                    "warmup_ratio": 0.1,
                    "attention_dropout": 0.05,
                    "hidden_dropout": 0.1,
                    "batch_size": 16,
                }
                write_json(
                    hpo / "best.json",
                    {"family": family, "train_variant": variant, "algorithm": algorithm,
                     "trial_id": "t3", "dev_f1": 0.6 + 0.01 * k, "epoch": 3 + k % 4,
                     "config": config, "seed": 42},
                )  # fmt: skip
                (hpo / "trials.csv").write_text(TRIALS_CSV, encoding="utf-8")
                write_json(
                    hpo / "summary.json",
                    {"trials": 4, "failed": 1, "stopped_early": 2, "epochs": 15,
                     "best_dev_f1": 0.7, "wall_seconds": 3600.0},
                )  # fmt: skip
                k += 1
    tune = results / "hpo" / "original" / "cased" / "asha" / "tune"
    for name, rows in PROGRESS.items():
        (tune / name).mkdir(parents=True)
        lines = ["dev_f1,epoch,timestamp,training_iteration,trial_id,time_total_s"]
        lines += [f"{f},{it},{ts},{it},{tid},{it * 10.0}" for tid, ts, it, f in rows]
        (tune / name / "progress.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for i, size in enumerate(BATCH_SIZES):
        write_json(
            results / "baseline" / f"bs{size}.json",
            {"family": "original", "variant": "uncased", "batch_size": size, "config": {},
             "dev": {"f1": [0.71, 0.74, 0.73, 0.70, 0.65][i]},
             "test": {"f1": [0.69, 0.70, 0.72, 0.68, 0.60][i]},
             "dev_f1_per_epoch": [0.5, 0.7], "train_seconds": 10},
        )  # fmt: skip
    for path in results.rglob("*"):
        os.utime(path, (MTIME, MTIME))
    return results


README = (
    "# nerhpo\n\nProse with ümlauts and trailing spaces   \n\n"
    + "".join(f"## {n}\n\n<!-- BEGIN {n} -->\nold {n}\n<!-- END {n} -->\n\n" for n in report.SECTION_NAMES)
    + "Closing prose.\r\nWindows line\r\n"
)  # fmt: skip


def outside_markers(text: str) -> str:
    return re.sub(r"(<!-- BEGIN ([\w-]+) -->).*?(<!-- END \2 -->)", r"\1\3", text, flags=re.S)


@pytest.fixture
def results(tmp_path) -> Path:
    return build_results(tmp_path)


@pytest.fixture
def data(results):
    return report.collect(results, FAMILIES, VARIANTS, ALGORITHMS, EVAL_VARIANTS, BATCH_SIZES)


def table_rows(table: str) -> tuple[list[str], list[list[str]]]:
    lines = table.strip().splitlines()
    split = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    return split[0], split[2:]


@pytest.mark.parametrize("split", ["dev", "test"])
def test_score_table_shape_values_and_bold(data, split):
    headers, rows = table_rows(report.score_table(data, split))
    assert headers == ["Tag Family", "Trained on", "HPO Alg", *EVAL_VARIANTS]
    assert len(rows) == 18
    assert [r[:3] for r in rows[:4]] == [
        ["original", "cased", "asha"],
        ["original", "cased", "bohb"],
        ["original", "cased", "pbt"],
        ["original", "uncased", "asha"],
    ]
    for j in range(len(EVAL_VARIANTS)):
        cells = [r[3 + j] for r in rows]
        values = [float(c.strip("*")) for c in cells]
        assert all(0 <= v <= 1 for v in values)
        assert all(re.fullmatch(r"\d\.\d{4}", c.strip("*")) for c in cells)
        bold = [i for i, c in enumerate(cells) if c.startswith("**")]
        expected = max(range(18), key=lambda k: f1(split, k, j))
        assert bold == [expected]
        assert values[expected] == f1(split, expected, j)


def test_hparams_and_batch_size_tables(data):
    headers, rows = table_rows(report.hparams_table(data))
    assert len(headers) == 11 and len(rows) == 18
    assert headers[3:] == [
        "learning rate",
        "weight decay",
        "warmup ratio",
        "attention dropout",
        "hidden dropout",
        "batch size",
        "epochs",
        "dev F1",
    ]
    assert rows[0][3:] == ["1.23e-03", "0.010", "0.100", "0.050", "0.100", "16", "3", "0.6000"]
    assert rows[5][9] == str(3 + 5 % 4)

    headers, rows = table_rows(report.batch_size_table(data))
    assert headers[1:] == [f"BS={b}" for b in BATCH_SIZES]
    assert [r[0] for r in rows] == ["F1-Dev", "F1-Test"]
    assert rows[0][1:] == ["0.7100", "**0.7400**", "0.7300", "0.7000", "0.6500"]
    assert rows[1][1:] == ["0.6900", "0.7000", "**0.7200**", "0.6800", "0.6000"]


def test_anytime_curve_orders_by_timestamp_then_trial(results):
    study = results / "hpo" / "original" / "cased" / "asha"
    curve = report.anytime_curve(study)
    assert curve["epochs"].tolist() == [1, 2, 3, 4, 5]
    assert curve["best"].tolist() == [0.30, 0.60, 0.60, 0.60, 0.62]
    assert report.epochs_to_fraction(curve) == PROGRESS_TO_99
    fallback = report.anytime_curve(results / "hpo" / "original" / "cased" / "bohb")
    assert fallback["epochs"].tolist() == [8, 10, 14, 15]
    assert report.epochs_to_fraction(fallback) == FALLBACK_TO_99


def test_algorithm_table_tiny_case(results):
    tiny = report.collect(results, ["original"], ["cased"], ["asha", "bohb"], EVAL_VARIANTS, [16])
    stats = report.algorithm_stats(tiny).set_index("algorithm")
    assert stats.loc["asha", "epochs_to_99_mean"] == PROGRESS_TO_99
    assert stats.loc["bohb", "epochs_to_99_mean"] == FALLBACK_TO_99
    for alg in ("asha", "bohb"):
        assert stats.loc[alg, ["studies", "trials", "stopped_early", "failed", "epochs"]].tolist() == [
            1, 4, 2, 1, 15,
        ]  # fmt: skip
    assert stats.loc["bohb", "own_test_mean"] == f1("test", 1, 0)  # trained on cased
    table = report.algorithms_table(tiny, resources_per_study=2.0)
    headers, rows = table_rows(table.split("\n\n")[0])
    assert headers[0] == "HPO Alg" and headers[-1] == "epochs to 99% of final best (mean)"
    assert rows[0] == ["asha", "1", "0.6000", "0.6000", f"{f1('test', 0, 0):.4f}", "4", "2", "1",
                       "15", "1.00", "2.00", "5.0"]  # fmt: skip
    assert "wall-clock h × 2 CPU(s)" in table


def test_algorithm_stats_full(data):
    stats = report.algorithm_stats(data).set_index("algorithm")
    assert stats["studies"].tolist() == [6, 6, 6]
    assert stats["trials"].tolist() == [24, 24, 24]
    assert stats.loc["asha", "epochs_to_99_mean"] == pytest.approx((5 + 5 * 14) / 6)
    assert stats.loc["pbt", "epochs_to_99_mean"] == 14
    ks = [k for k in range(18) if k % 3 == 2]  # pbt models; variant index (k // 3) % 3
    own = [f1("test", k, (k // 3) % 3) for k in ks]
    assert stats.loc["pbt", "own_test_mean"] == pytest.approx(sum(own) / len(own))
    assert stats.loc["pbt", "best_dev_max"] == pytest.approx(0.6 + 0.01 * 17)


def run_report(data, root: Path) -> dict[str, str]:
    return report.write_report(
        data, root / "results" / "report", root / "README.md", "demo corpus", "scratch", "abc123"
    )


def test_write_report_readme_figures_and_rerun(data, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_bytes(README.encode("utf-8"))
    readme.chmod(0o644)
    sections = run_report(data, tmp_path)
    assert readme.stat().st_mode & 0o777 == 0o644
    out = tmp_path / "results" / "report"
    first = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert sorted(first) == [
        "anytime.png",
        "heatmap_original.png",
        "heatmap_simple.png",
        "hparams.png",
        "tables.md",
    ]
    for name, blob in first.items():
        assert len(blob) > 1000 if name.endswith(".png") else blob
        if name.endswith(".png"):
            assert blob.startswith(b"\x89PNG")
    text = readme.read_bytes().decode("utf-8")
    assert outside_markers(text) == outside_markers(README)
    assert "Closing prose.\r\nWindows line\r\n" in text
    assert sections["results-header"] == (
        "Generated by workflow/scripts/report.py on 2023-11-14 22:13 UTC from corpus demo corpus, "
        "model scratch, params abc123"
    )
    assert "![heatmap_original](results/report/heatmap_original.png)" in text
    tables = first["tables.md"].decode("utf-8")
    assert sections["dev-table"] in tables and "](anytime.png)" in tables

    before = readme.read_bytes()
    run_report(data, tmp_path)  # same results -> same bytes everywhere
    assert readme.read_bytes() == before
    assert {p.name: p.read_bytes() for p in sorted(out.iterdir())} == first
    assert report.update_readme(readme, sections) is False


def test_missing_marker_is_a_clear_error(data, tmp_path):
    readme = tmp_path / "README.md"
    broken = README.replace("<!-- END algorithms-table -->", "")
    readme.write_bytes(broken.encode("utf-8"))
    with pytest.raises(report.ReportError, match=r"README\.md: marker <!-- END algorithms-table"):
        report.update_readme(readme, {"dev-table": "x", "algorithms-table": "y"})
    assert readme.read_bytes() == broken.encode("utf-8")  # nothing written
    with pytest.raises(report.ReportError, match="algorithms-table"):
        run_report(data, tmp_path)
    assert not (tmp_path / "results" / "report").exists()


def test_missing_input_names_the_file(results):
    missing = results / "hpo" / "simple" / "uncased" / "pbt" / "best.json"
    missing.unlink()
    with pytest.raises(report.ReportError, match=re.escape(str(missing))):
        report.collect(results, FAMILIES, VARIANTS, ALGORITHMS, EVAL_VARIANTS, BATCH_SIZES)


def load_script():
    spec = importlib.util.spec_from_file_location(
        "report_script", ROOT / "workflow" / "scripts" / "report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_one_line_error_and_header(results, tmp_path):
    from nerhpo.core import cli

    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["hpo"].update(families=FAMILIES, train_variants=VARIANTS, algorithms=ALGORITHMS)
    params["hpo"].update(cpus_per_trial=2, gpus_per_trial=0, concurrency=1)
    params["variants"]["names"] = EVAL_VARIANTS
    params["baseline"]["batch_sizes"] = BATCH_SIZES
    params["model"]["name_or_path"] = "scratch"
    params_path = tmp_path / "params.yaml"
    params_path.write_text(yaml.safe_dump(params), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    script = load_script()
    args = Namespace(
        params=str(params_path),
        results=str(results),
        readme=str(readme),
        out=str(tmp_path / "out"),
        findings=None,
        corpus_report=None,
        journal=None,
        verbose=False,
    )
    cli.run(script.main, args)
    text = readme.read_text(encoding="utf-8")
    digest = report.params_hash(params_path)
    assert f"model scratch BERT (hidden size {params['model']['scratch']['hidden_size']}" in text
    assert f"params {digest}\n" in text and len(digest) == 12
    assert "wall-clock h × 2 CPU(s)" in text
    assert (tmp_path / "out" / "tables.md").is_file()

    (results / "baseline" / "bs64.json").unlink()
    with pytest.raises(SystemExit) as exc:
        cli.run(script.main, args)
    message = str(exc.value.code)
    assert "\n" not in message and message.startswith("error: ")
    assert message.endswith("bs64.json")


def test_describe_params():
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["corpus"]["source"] = "demo"
    params["corpus"]["demo"].update(train_sentences=1200, dev_sentences=300, test_sentences=300)
    params["seed"] = 42
    assert report.describe_corpus(params) == "demo (1200/300/300 sentences, seed 42)"
    params["model"]["name_or_path"] = "scratch"
    params["model"]["scratch"].update(hidden_size=128, num_layers=2)
    assert report.describe_model(params) == "scratch BERT (hidden size 128, 2 layers)"
    params["model"]["name_or_path"] = "/models/gbert"
    assert report.describe_model(params) == "/models/gbert"


def test_committed_readme_links_resolve():
    """Every relative link and figure in the README and docs/ points to a file of the project.
    A README regenerated from a demo run in another folder once linked its figures there
    (../demo-run10/results/report/...), which no clone has."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    checked = 0
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:|#", target):  # web addresses and anchors
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), f"{page.name}: broken link {target}"
            checked += 1
    assert checked >= 8  # the README's figures and the cluster guide at least


def test_figures_outside_the_readme_folder_warn(tmp_path, caplog):
    inside = tmp_path / "project" / "results" / "report" / "a.png"
    outside = tmp_path / "run" / "results" / "report" / "b.png"
    with caplog.at_level("WARNING", logger="nerhpo.analysis.report"):
        text = report.figures_section([inside, outside], tmp_path / "project")
    assert text == "![a](results/report/a.png)\n\n![b](../run/results/report/b.png)"
    assert len(caplog.records) == 1 and "../run/results/report/b.png" in caplog.text
