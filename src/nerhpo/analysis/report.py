"""The report stage: tables, figures and the README's results sections from results/.

Everything here is a pure function of the input files, so running the report twice on the
same results gives byte-identical tables, README and PNGs (the date shown is the newest
input file's mtime, never "now").
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from nerhpo.analysis.figures import pyplot, save_png, series_style
from nerhpo.core import layout
from nerhpo.core.atomic import atomic_write_text
from nerhpo.core.hparams import HPARAMS
from nerhpo.core.layout import under
from nerhpo.core.result_files import read_csv, read_json
from nerhpo.search.tune_files import read_progress

log = logging.getLogger(__name__)

SECTION_NAMES = (
    "results-header",
    "dev-table",
    "test-table",
    "hparams-table",
    "batch-size-table",
    "algorithms-table",
    "figures",
)
MISSING = "–"


class ReportError(RuntimeError):
    """An input file is missing or unreadable, or the README lacks a marker (one line)."""


# -- reading the results ----------------------------------------------------------------------
@dataclass
class Study:
    """One trained model: its HPO study and the evaluation of its best checkpoint."""

    family: str
    variant: str
    algorithm: str
    scores: dict  # split -> eval variant -> {"f1", ...}
    best: dict
    summary: dict
    trials: pd.DataFrame
    curve: pd.DataFrame  # columns epochs (cumulative), best (best-so-far dev F1)


@dataclass
class ReportData:
    """Everything the tables and figures need, plus the input files (for the date)."""

    families: list[str]
    variants: list[str]
    algorithms: list[str]
    eval_variants: list[str]
    batch_sizes: list[int]
    studies: list[Study]
    baseline: dict[int, dict]
    pretrain: dict | None
    inputs: list[Path] = field(default_factory=list)

    @property
    def newest_mtime(self) -> float:
        return max((p.stat().st_mtime for p in self.inputs), default=0.0)


def _read_json(path: Path) -> dict:
    return read_json(path, ReportError)


def _read_csv(path: Path) -> pd.DataFrame:
    return read_csv(path, ReportError)


def anytime_curve(study_dir: str | Path, trials: pd.DataFrame | None = None) -> pd.DataFrame:
    """Best-so-far dev F1 against epochs spent by the whole study (all trials together).

    Why: final F1 alone hides how fast an algorithm gets there. From the per-trial Ray Tune
    ``tune/*/progress.csv`` (one row per epoch, ordered by timestamp, then trial, then
    iteration); without them from ``trials.csv`` (one point per trial, epochs cumulative).
    Returns columns ``epochs`` and ``best`` plus the list of files read in ``attrs["inputs"]``.
    """
    study_dir = Path(study_dir)
    files = sorted((study_dir / "tune").glob("*/progress.csv"))
    frames = []
    for path in files:
        frame = read_progress(path.parent)
        if frame.empty:
            continue  # a trial that failed before its first report
        if "trial_id" not in frame:
            frame["trial_id"] = path.parent.name
        for column in ("dev_f1", "timestamp", "training_iteration"):
            if column not in frame:
                frame[column] = math.nan
        frames.append(frame[["trial_id", "timestamp", "training_iteration", "dev_f1"]])
    if frames:
        rows = pd.concat(frames, ignore_index=True)
        rows["trial_id"] = rows["trial_id"].astype(str)
        rows = rows.sort_values(
            ["timestamp", "trial_id", "training_iteration"], kind="mergesort"
        ).reset_index(drop=True)
        epochs = pd.Series(range(1, len(rows) + 1), dtype=float)
        scores = rows["dev_f1"].astype(float)
        inputs = files
    else:
        if trials is None:
            trials = _read_csv(study_dir / "trials.csv")
        epochs = trials["epochs"].fillna(0).astype(float).cumsum().reset_index(drop=True)
        scores = trials["best_dev_f1"].astype(float).reset_index(drop=True)
        inputs = []
    best = scores.cummax().ffill()
    curve = pd.DataFrame({"epochs": epochs, "best": best})
    curve.attrs["inputs"] = inputs
    return curve


def epochs_to_fraction(curve: pd.DataFrame, fraction: float = 0.99) -> float:
    """Epochs spent until the best-so-far dev F1 first reaches ``fraction`` of its final value."""
    best = curve["best"].dropna()
    if best.empty:
        return math.nan
    target = fraction * best.iloc[-1]
    reached = curve.loc[best.index[best >= target], "epochs"]
    return float(reached.iloc[0])


def collect(
    results_dir: str | Path,
    families: list[str],
    variants: list[str],
    algorithms: list[str],
    eval_variants: list[str],
    batch_sizes: list[int],
) -> ReportData:
    """Read every input the report uses; a missing required file raises ReportError naming it."""
    results = Path(results_dir)
    inputs: list[Path] = []
    studies = []
    for family in families:
        for variant in variants:
            for algorithm in algorithms:
                study = {"family": family, "variant": variant, "algorithm": algorithm}
                hpo_dir = under(results, layout.STUDY_DIR, **study)
                eval_path = under(results, layout.EVAL_FILE, **study)
                evaluation = _read_json(eval_path)
                best = _read_json(hpo_dir / "best.json")
                summary = _read_json(hpo_dir / "summary.json")
                trials = _read_csv(hpo_dir / "trials.csv")
                curve = anytime_curve(hpo_dir, trials)
                inputs += [eval_path, hpo_dir / "best.json", hpo_dir / "summary.json"]
                inputs += [hpo_dir / "trials.csv", *curve.attrs["inputs"]]
                studies.append(
                    Study(
                        family,
                        variant,
                        algorithm,
                        evaluation.get("scores", {}),
                        best,
                        summary,
                        trials,
                        curve,
                    )
                )
    baseline = {}
    for size in batch_sizes:
        path = under(results, layout.BASELINE_FILE, batch_size=size)
        baseline[int(size)] = _read_json(path)
        inputs.append(path)
    pretrain_path = under(results, layout.PRETRAIN_SUMMARY)
    pretrain = None
    if pretrain_path.is_file():
        pretrain = _read_json(pretrain_path)
        inputs.append(pretrain_path)
    return ReportData(
        list(families),
        list(variants),
        list(algorithms),
        list(eval_variants),
        [int(b) for b in batch_sizes],
        studies,
        baseline,
        pretrain,
        inputs,
    )


# -- tables -----------------------------------------------------------------------------------
def _markdown(rows: list[list[str]], headers: list[str], numeric_from: int) -> str:
    """A pipe table; strings are printed as given (no re-parsing of "1.00e-03" as numbers)."""
    align = ["left"] * numeric_from + ["right"] * (len(headers) - numeric_from)
    return tabulate(rows, headers=headers, tablefmt="pipe", disable_numparse=True, colalign=align)


def _f1(value) -> str:
    return MISSING if value is None or pd.isna(value) else f"{float(value):.4f}"


def _bold_max(cells: list[str]) -> list[str]:
    """Bold the best shown value(s); ties at the shown precision are all bold."""
    shown = [c for c in cells if c != MISSING]
    if not shown:
        return cells
    top = max(shown, key=float)
    return [f"**{c}**" if c != MISSING and float(c) == float(top) else c for c in cells]


def _bold_columns(rows: list[list[str]], first: int) -> list[list[str]]:
    columns = [_bold_max([row[j] for row in rows]) for j in range(first, len(rows[0]))]
    return [row[:first] + [col[i] for col in columns] for i, row in enumerate(rows)]


def score_table(data: ReportData, split: str) -> str:
    """F1 of every trained model on every casing variant (the question's main evidence)."""
    rows = []
    for s in data.studies:
        scores = s.scores.get(split, {})
        cells = [_f1(scores.get(v, {}).get("f1")) for v in data.eval_variants]
        rows.append([s.family, s.variant, s.algorithm, *cells])
    if rows:
        rows = _bold_columns(rows, 3)
    return _markdown(rows, ["Tag Family", "Trained on", "HPO Alg", *data.eval_variants], 3)


def hparams_table(data: ReportData) -> str:
    """The winning configuration of each study, to see which hyperparameters matter."""
    headers = [
        "Tag Family",
        "Trained on",
        "HPO Alg",
        "learning rate",
        "weight decay",
        "warmup ratio",
        "attention dropout",
        "hidden dropout",
        "batch size",
        "epochs",
        "dev F1",
    ]
    rows = []
    for s in data.studies:
        c = s.best.get("config", {})

        def num(key, fmt, c=c):
            value = c.get(key)
            return MISSING if value is None else format(float(value), fmt)

        rows.append(
            [
                s.family,
                s.variant,
                s.algorithm,
                num("learning_rate", ".2e"),
                num("weight_decay", ".3f"),
                num("warmup_ratio", ".3f"),
                num("attention_dropout", ".3f"),
                num("hidden_dropout", ".3f"),
                MISSING if c.get("batch_size") is None else str(int(c["batch_size"])),
                str(s.best.get("epoch", MISSING)),
                _f1(s.best.get("dev_f1")),
            ]
        )
    return _markdown(rows, headers, 3)


def batch_size_table(data: ReportData) -> str:
    """The default hyperparameters at each batch size, without HPO (the seed's baseline)."""
    headers = ["", *[f"BS={b}" for b in data.batch_sizes]]
    rows = []
    for label, split in (("F1-Dev", "dev"), ("F1-Test", "test")):
        cells = [_f1(data.baseline[b].get(split, {}).get("f1")) for b in data.batch_sizes]
        rows.append([label, *_bold_max(cells)])
    return _markdown(rows, headers, 1)


def algorithm_stats(data: ReportData) -> pd.DataFrame:
    """Per algorithm, over all its studies: quality, cost and speed (numbers, for tests too)."""
    records = []
    for algorithm in data.algorithms:
        studies = [s for s in data.studies if s.algorithm == algorithm]
        own = [s.scores.get("test", {}).get(s.variant, {}).get("f1") for s in studies]
        own = [float(v) for v in own if v is not None]
        best = [float(s.best["dev_f1"]) for s in studies if s.best.get("dev_f1") is not None]
        to99 = [epochs_to_fraction(s.curve) for s in studies]
        to99 = [v for v in to99 if not math.isnan(v)]
        wall = sum(float(s.summary.get("wall_seconds", 0.0)) for s in studies)
        records.append(
            {
                "algorithm": algorithm,
                "studies": len(studies),
                "best_dev_mean": sum(best) / len(best) if best else math.nan,
                "best_dev_max": max(best) if best else math.nan,
                "own_test_mean": sum(own) / len(own) if own else math.nan,
                "trials": sum(int(s.summary.get("trials", 0)) for s in studies),
                "stopped_early": sum(int(s.summary.get("stopped_early", 0)) for s in studies),
                "failed": sum(int(s.summary.get("failed", 0)) for s in studies),
                "epochs": sum(int(s.summary.get("epochs", 0)) for s in studies),
                "wall_hours": wall / 3600,
                "epochs_to_99_mean": sum(to99) / len(to99) if to99 else math.nan,
            }
        )
    return pd.DataFrame.from_records(records)


def algorithms_table(
    data: ReportData, resources_per_study: float = 1.0, resource: str = "CPU"
) -> str:
    """HPO algorithms side by side; the footnote says how CPU/GPU hours were counted."""
    stats = algorithm_stats(data)
    headers = [
        "HPO Alg",
        "studies",
        "best dev F1 (mean)",
        "best dev F1 (max)",
        "mean test F1 on own variant",
        "trials run",
        "trials stopped early",
        "trials failed",
        "epochs spent",
        "wall-clock h",
        "CPU/GPU h",
        "epochs to 99% of final best (mean)",
    ]

    def num(value, fmt):
        return MISSING if pd.isna(value) else format(float(value), fmt)

    rows = [
        [
            r.algorithm,
            str(r.studies),
            num(r.best_dev_mean, ".4f"),
            num(r.best_dev_max, ".4f"),
            num(r.own_test_mean, ".4f"),
            str(r.trials),
            str(r.stopped_early),
            str(r.failed),
            str(r.epochs),
            num(r.wall_hours, ".2f"),
            num(r.wall_hours * resources_per_study, ".2f"),
            num(r.epochs_to_99_mean, ".1f"),
        ]
        for r in stats.itertuples()
    ]
    note = (
        f"CPU/GPU h = wall-clock h × {resources_per_study:g} {resource}(s) held per study. "
        "Epochs to 99%: epochs spent by all trials of a study (in time order) until the "
        "best-so-far dev F1 reached 99% of the study's final best."
    )
    return _markdown(rows, headers, 1) + "\n\n" + note


# -- header -----------------------------------------------------------------------------------
def params_hash(path: str | Path, length: int = 12) -> str:
    """A short sha256 of the params file, so a report names the settings it came from."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:length]


def describe_corpus(params: dict) -> str:
    corpus = params["corpus"]
    if corpus["source"] == "demo":
        d = corpus["demo"]
        sizes = f"{d['train_sentences']}/{d['dev_sentences']}/{d['test_sentences']}"
        return f"demo ({sizes} sentences, seed {params['seed']})"
    parts = corpus.get("parts", {})
    files = [
        f"{split} {Path(path).name}" + (f" (part {parts[split]})" if split in parts else "")
        for split, path in corpus["files"].items()
    ]
    fmt = "" if corpus["format"] == "auto" else f"{corpus['format']} "
    return f"{fmt}files {', '.join(files)}"


def describe_model(params: dict) -> str:
    model = params["model"]
    name = model["name_or_path"]
    if name != "scratch":
        return name
    s = model["scratch"]
    return f"scratch BERT (hidden size {s['hidden_size']}, {s['num_layers']} layers)"


def header_line(data: ReportData, corpus: str, model: str, params_digest: str) -> str:
    """Provenance; the date is the newest input's mtime, so reruns give identical bytes."""
    date = datetime.fromtimestamp(data.newest_mtime, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Generated by workflow/scripts/report.py on {date} from corpus {corpus}, "
        f"model {model}, params {params_digest}"
    )


# -- figures ----------------------------------------------------------------------------------


def _score(study: Study, split: str, variant: str) -> float:
    value = study.scores.get(split, {}).get(variant, {}).get("f1")
    return math.nan if value is None else float(value)


def heatmap(data: ReportData, family: str, out: Path, split: str = "test") -> Path:
    """Trained model x evaluation variant F1: where casing robustness breaks down."""
    plt = pyplot()
    studies = [s for s in data.studies if s.family == family]
    labels = [f"{s.variant}/{s.algorithm}" for s in studies]
    values = [[_score(s, split, v) for v in data.eval_variants] for s in studies]
    fig, ax = plt.subplots(figsize=(11, 7))
    image = ax.imshow(values, cmap="viridis", aspect="auto", vmin=0, vmax=1)
    ax.set_xticks(range(len(data.eval_variants)), data.eval_variants, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if not math.isnan(value):
                color = "black" if value > 0.6 else "white"
                ax.text(j, i, f"{value:.3f}", ha="center", va="center", fontsize=8, color=color)
    ax.set_xlabel("evaluated on")
    ax.set_ylabel("trained on / HPO algorithm")
    ax.set_title(f"{split} F1, tag family {family}")
    fig.colorbar(image, ax=ax, label="F1")
    fig.tight_layout()
    try:
        return save_png(fig, out / f"heatmap_{family}.png")
    finally:
        plt.close(fig)


def anytime_plot(data: ReportData, out: Path) -> Path:
    """Best-so-far dev F1 vs epochs spent, per study: which algorithm gets there cheaper."""
    plt = pyplot()
    nrows, ncols = max(1, len(data.families)), max(1, len(data.variants))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4 * ncols, 3 * nrows), sharey=True, squeeze=False
    )
    for i, family in enumerate(data.families):
        for j, variant in enumerate(data.variants):
            ax = axes[i][j]
            for s in data.studies:
                if s.family == family and s.variant == variant:
                    style = series_style(data.algorithms.index(s.algorithm))
                    ax.step(
                        s.curve["epochs"],
                        s.curve["best"],
                        where="post",
                        label=s.algorithm,
                        markersize=3,
                        **style,
                    )
            ax.set_title(f"{family} / {variant}", fontsize=10)
            ax.grid(alpha=0.3)
            if i == nrows - 1:
                ax.set_xlabel("epochs spent")
            if j == 0:
                ax.set_ylabel("best dev F1 so far")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.suptitle("Best dev F1 so far against the epochs a study has spent, per main study")
    fig.tight_layout()
    try:
        return save_png(fig, out / "anytime.png")
    finally:
        plt.close(fig)


def hparams_plot(data: ReportData, out: Path) -> Path:
    """Every trial's hyperparameter vs its best dev F1: trials trained to the end filled, those
    stopped early hollow (their F1 comes from fewer epochs), failed ones marked at F1 = 0."""
    plt = pyplot()
    frames = [s.trials.assign(algorithm=s.algorithm) for s in data.studies if len(s.trials)]
    trials = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    fig, axes = plt.subplots(2, 3, figsize=(12, 7), sharey=True)
    for ax, name in zip(axes.flat, HPARAMS):
        if name in trials:
            failed = (trials["status"] == "ERROR") | trials["best_dev_f1"].isna()
            stopped = trials["status"] == "STOPPED"
            for i, algorithm in enumerate(data.algorithms):
                style = series_style(i)
                mine = (trials["algorithm"] == algorithm) & ~failed
                full, early = trials[mine & ~stopped], trials[mine & stopped]
                ax.scatter(
                    full[name],
                    full["best_dev_f1"],
                    s=16,
                    alpha=0.75,
                    color=style["color"],
                    marker=style["marker"],
                    label=f"{algorithm}, trained to the end",
                )
                ax.scatter(
                    early[name],
                    early["best_dev_f1"],
                    s=16,
                    alpha=0.75,
                    facecolors="none",
                    edgecolors=style["color"],
                    marker=style["marker"],
                    label=f"{algorithm}, stopped early",
                )
            bad = trials[failed]
            ax.scatter(bad[name], [0.0] * len(bad), marker="x", color="red", s=24, label="failed")
        if name == "learning_rate":
            ax.set_xscale("log")
        elif name == "batch_size" and name in trials:
            ax.set_xscale("log", base=2)
            sizes = sorted(int(b) for b in trials[name].dropna().unique())
            ax.set_xticks(sizes, [str(b) for b in sizes])
            ax.minorticks_off()
        ax.set_xlabel(name.replace("_", " "))
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("best dev F1 of trial")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle("Every trial of the main studies: hyperparameter against its best dev F1")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    try:
        return save_png(fig, out / "hparams.png")
    finally:
        plt.close(fig)


def write_figures(data: ReportData, out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    paths = [heatmap(data, family, out) for family in data.families]
    return [*paths, anytime_plot(data, out), hparams_plot(data, out)]


def figures_section(paths: list[Path], readme_dir: str | Path) -> str:
    """Markdown image links, relative to the README so they render on the forge."""
    lines = []
    for path in paths:
        rel = Path(os.path.relpath(Path(path).resolve(), Path(readme_dir).resolve())).as_posix()
        if rel.startswith("../"):
            log.warning(
                "figure %s lies outside the README's folder: the link %s breaks in a clone "
                "(copy the figures next to the README and run the report there)",
                path,
                rel,
            )
        lines.append(f"![{Path(path).stem}]({rel})")
    return "\n\n".join(lines)


# -- README ------------------------------------------------------------------------------------
def update_readme(readme_path: str | Path, sections: dict[str, str]) -> bool:
    """Replace only the text between ``<!-- BEGIN name -->`` and ``<!-- END name -->``.

    Why: the README mixes prose with generated results; the prose must survive byte for byte.
    Every marker is checked before anything is written; the file is rewritten atomically and
    only when it changes. Returns whether it changed.
    """
    path = Path(readme_path)
    original = _read_readme(path)
    text = _replace_sections(original, sections, path)
    if text == original:
        return False
    mode = path.stat().st_mode & 0o7777
    atomic_write_text(path, text)
    os.chmod(path, mode)  # the temporary file's 0600 must not stick to a tracked README
    return True


def _read_readme(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: file not found") from None
    except UnicodeDecodeError as err:
        raise ReportError(f"{path}: not valid UTF-8 ({err})") from None


def _replace_sections(text: str, sections: dict[str, str], path: Path) -> str:
    for name, content in sections.items():
        begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
        for marker in (begin, end):
            count = text.count(marker)
            if count != 1:
                problem = "missing" if count == 0 else f"found {count} times"
                raise ReportError(f"{path}: marker {marker} {problem}")
        start = text.index(begin) + len(begin)
        stop = text.index(end)
        if stop < start:
            raise ReportError(f"{path}: marker {end} comes before {begin}")
        text = text[:start] + "\n" + content.strip("\n") + "\n" + text[stop:]
    return text


def build_sections(
    data: ReportData,
    corpus: str,
    model: str,
    params_digest: str,
    figure_paths: list[Path],
    readme_dir: str | Path,
    resources_per_study: float = 1.0,
    resource: str = "CPU",
) -> dict[str, str]:
    """README section name -> markdown (the names of SECTION_NAMES)."""
    return {
        "results-header": header_line(data, corpus, model, params_digest),
        "dev-table": score_table(data, "dev"),
        "test-table": score_table(data, "test"),
        "hparams-table": hparams_table(data),
        "batch-size-table": batch_size_table(data),
        "algorithms-table": algorithms_table(data, resources_per_study, resource),
        "figures": figures_section(figure_paths, readme_dir),
    }


TITLES = {
    "dev-table": "F1 on the dev sets",
    "test-table": "F1 on the test sets",
    "hparams-table": "Successful Hyperparameters",
    "batch-size-table": "Batch size (default hyperparameters, no HPO)",
    "algorithms-table": "HPO algorithms",
    "figures": "Figures",
}


def tables_markdown(sections: dict[str, str]) -> str:
    """All tables in one file, for reading without the README."""
    parts = ["# Results", "", sections["results-header"]]
    for name, title in TITLES.items():
        if name in sections:
            body = sections[name]
            if name == "figures":  # tables.md lives beside the PNGs
                body = re.sub(r"\]\((?:[^)]*/)?([^/)]+\.png)\)", r"](\1)", body)
            parts += ["", f"## {title}", "", body]
    return "\n".join(parts) + "\n"


def write_report(
    data: ReportData,
    out_dir: str | Path,
    readme_path: str | Path,
    corpus: str,
    model: str,
    params_digest: str,
    resources_per_study: float = 1.0,
    resource: str = "CPU",
    extra_sections: dict[str, str] | None = None,
) -> dict[str, str]:
    """Figures and tables.md into ``out_dir``, then the README's generated sections.

    ``extra_sections`` (e.g. the findings stage's text) go between their own markers.
    """
    readme = Path(readme_path)
    extra = extra_sections or {}
    names = dict.fromkeys(SECTION_NAMES + tuple(extra), "")
    _replace_sections(_read_readme(readme), names, readme)  # fail fast
    out = Path(out_dir)
    figures = write_figures(data, out)
    sections = build_sections(
        data,
        corpus,
        model,
        params_digest,
        figures,
        Path(readme_path).parent,
        resources_per_study,
        resource,
    )
    atomic_write_text(out / "tables.md", tables_markdown(sections))
    update_readme(readme_path, {**sections, **extra})
    return sections
