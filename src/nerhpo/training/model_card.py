"""The model card (README.md) next to an exported model's weights.

Why: an exported model/ folder is loaded by people who never saw the study: the card says what
it was trained on (corpus, tag family, training variant), how it was chosen (algorithm,
hyperparameters, dev F1) and how to use it with plain transformers. The HPO stage writes it at
export time; the F1 on every casing variant comes later, from the evaluation stage, and
``workflow/scripts/export_model.py`` puts it into the card of a copy made for shipping
(:func:`add_scores`): the study's own model/ is a stage output and stays as the stage wrote it.
"""

from __future__ import annotations

from pathlib import Path

from nerhpo.core.atomic import atomic_write_text
from nerhpo.core.hparams import HPARAMS

CARD = "README.md"
SCORES_START = "<!-- nerhpo:scores:start -->"
SCORES_END = "<!-- nerhpo:scores:end -->"
NOT_YET = (
    "Not in this copy: the evaluation stage scores every casing variant (results/eval/); "
    "`python workflow/scripts/export_model.py` copies the model out with those scores here."
)


def corpus_description(corpus: dict) -> str:
    """One line on params' ``corpus`` block: the demo generator or the user's files."""
    if corpus.get("source") == "demo":
        sizes = corpus.get("demo", {})
        counts = ", ".join(f"{sizes[k]} {k.split('_')[0]}" for k in sorted(sizes))
        return f"nerhpo's embedded German-like demo corpus ({counts} sentences)"
    files = corpus.get("files", {})
    listed = ", ".join(f"{split}: {Path(path).name}" for split, path in files.items() if path)
    return f"{corpus.get('format', 'germeval')} files ({listed})"


def write_model_card(
    model_dir: str | Path,
    best: dict,
    labels: list[str],
    corpus: str | None = None,
    encoder: str | None = None,
) -> Path:
    """Write model_dir/README.md from a study's ``best`` (best.json's fields) at export time."""
    path = Path(model_dir) / CARD
    atomic_write_text(path, card_text(best, labels, corpus, encoder))
    return path


def card_text(best: dict, labels: list[str], corpus: str | None, encoder: str | None) -> str:
    tag = f"{best.get('family')}/{best.get('train_variant')}/{best.get('algorithm')}"
    facts = [
        ("corpus", corpus or "unknown"),
        ("tag family", f"{best.get('family')} ({len(labels)} labels)"),
        ("training variant", best.get("train_variant")),
        ("HPO algorithm", best.get("algorithm")),
        ("encoder", encoder or "unknown"),
        ("chosen trial", f"{best.get('trial_id')}, epoch {best.get('epoch')}"),
        ("HPO seed", best.get("seed")),
        ("dev F1 on the training variant (HPO)", _f1(best.get("dev_f1"))),
    ]
    config = best.get("config", {})
    hparams = [(name, config[name]) for name in HPARAMS if name in config]
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: token-classification",
        "language: de",
        "tags: [token-classification, ner, nerhpo]",
        "---",
        "",
        f"# German NER: {tag} (nerhpo)",
        "",
        "A token classifier fine-tuned and chosen by nerhpo's hyperparameter search. Scores are",
        "entity-level micro F1 (seqeval, conlleval-compatible mode); every choice was made on dev.",
        "",
        *_table(("", ""), facts),
        "",
        "## Hyperparameters",
        "",
        *_table(("hyperparameter", "value"), hparams),
        "",
        "## Scores",
        "",
        SCORES_START,
        NOT_YET,
        SCORES_END,
        "",
        "## Labels",
        "",
        ", ".join(f"`{label}`" for label in labels),
        "",
        "## Use",
        "",
        "```python",
        "from transformers import pipeline",
        "",
        'ner = pipeline("token-classification", model="path/to/model", '
        'aggregation_strategy="first")',
        'ner("Angela Merkel besucht Berlin .")',
        "```",
        "",
    ]
    return "\n".join(lines)


def add_scores(model_dir: str | Path, result: dict) -> Path:
    """Put the dev and test F1 of every evaluation variant (``result``: what
    nerhpo.training.evaluate.evaluate_model returns) into the card's score table."""
    path = Path(model_dir) / CARD
    text = path.read_text(encoding="utf-8")
    if SCORES_START not in text or SCORES_END not in text:
        raise ValueError(f"{path}: no score markers; was this card written by nerhpo?")
    head, rest = text.split(SCORES_START, 1)
    _, tail = rest.split(SCORES_END, 1)
    table = "\n".join(scores_table(result))
    atomic_write_text(path, f"{head}{SCORES_START}\n{table}\n{SCORES_END}{tail}")
    return path


def scores_table(result: dict) -> list[str]:
    """One row per evaluation variant, one column per split (F1 to four places)."""
    scores = result.get("scores", {})
    splits = [s for s in ("dev", "test") if s in scores] + sorted(set(scores) - {"dev", "test"})
    variants = list(dict.fromkeys(v for s in splits for v in scores[s]))
    rows = [(v, *(_f1(scores[s].get(v, {}).get("f1")) for s in splits)) for v in variants]
    return _table(("evaluation variant", *(f"{s} F1" for s in splits)), rows)


def _table(header: tuple, rows: list[tuple]) -> list[str]:
    out = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(map(str, row)) + " |" for row in rows]


def _f1(value) -> str:
    return "n/a" if value is None else f"{float(value):.4f}"
