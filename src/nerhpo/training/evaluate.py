"""Evaluate one exported HPO model on the dev and test splits of every casing variant.

The model is loaded once; each variant x split is read, encoded, predicted (no gradients,
eval mode, length-sorted batches) and scored with seqeval in its default, conlleval-compatible
mode: entity level, micro average, plus precision/recall/F1/support per entity type.
Words cut off beyond the model's maximum length are predicted as O, counted and reported.
Labels in the data that the model does not know are encoded as O (the model cannot predict
them) but scored against the true gold tags, so they count as misses, never as a crash.
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

from nerhpo.core.progress import progress
from nerhpo.data.corpus import Sentence, read_corpus
from nerhpo.training.model import load_finetuned

log = logging.getLogger(__name__)

SEQEVAL_MODE = "default (conlleval-compatible, entity level, micro average)"
AVERAGES = ("micro avg", "macro avg", "weighted avg")


def score(gold: list[list[str]], pred: list[list[str]]) -> dict:
    """Entity-level micro precision/recall/F1 and per-type scores (seqeval default mode)."""
    from seqeval.metrics import classification_report

    if len(gold) != len(pred) or any(len(g) != len(p) for g, p in zip(gold, pred)):
        raise ValueError("gold and predicted tags differ in shape")
    with warnings.catch_warnings():
        # no entities at all: seqeval's macro average is a mean of nothing (we do not use it)
        warnings.simplefilter("ignore", RuntimeWarning)
        report = classification_report(gold, pred, output_dict=True, zero_division=0)
    micro = report["micro avg"]
    per_type = {
        name: {
            "precision": float(row["precision"]),
            "recall": float(row["recall"]),
            "f1": float(row["f1-score"]),
            "support": int(row["support"]),
        }
        for name, row in sorted(report.items())
        if name not in AVERAGES
    }
    return {
        "precision": float(micro["precision"]),
        "recall": float(micro["recall"]),
        "f1": float(micro["f1-score"]),
        "per_type": per_type,
    }


def known_labels_only(
    sentences: list[Sentence], label2id: dict[str, int]
) -> tuple[list[Sentence], dict[str, int]]:
    """Copies of ``sentences`` with tags the model does not know replaced by O (for encoding)."""
    unknown: dict[str, int] = {}
    out = []
    for s in sentences:
        if all(t in label2id for t in s.tags):
            out.append(s)
            continue
        tags = []
        for t in s.tags:
            if t in label2id:
                tags.append(t)
            else:
                unknown[t] = unknown.get(t, 0) + 1
                tags.append("O")
        out.append(Sentence(list(s.tokens), tags))
    return out, unknown


def evaluate_split(
    model, tokenizer, label2id: dict[str, int], path: str | Path, max_length: int, batch_size: int
) -> dict:
    """Scores for one corpus file (the model is already loaded and in eval mode)."""
    from nerhpo.training.trainer import encode, predict

    start = time.perf_counter()
    sentences = read_corpus(path)
    encodable, unknown = known_labels_only(sentences, label2id)
    if unknown:
        log.warning(
            "%s: %d word(s) carry labels the model does not know (%s); encoded as O, "
            "scored against the true tags",
            path,
            sum(unknown.values()),
            ", ".join(sorted(unknown)),
        )
    encoded = encode(encodable, tokenizer, label2id, max_length)
    pred = predict(model, encoded, tokenizer.pad_token_id, batch_size)
    gold = [list(s.tags) for s in sentences]  # the true tags, unknown labels included
    result = score(gold, pred)
    if encoded.truncated_words:
        log.warning(
            "%s: %d word(s) beyond max_length=%d were cut off and predicted as O",
            path,
            encoded.truncated_words,
            max_length,
        )
    result.update(
        sentences=len(sentences),
        words=sum(len(s.tokens) for s in sentences),
        truncated_words=int(encoded.truncated_words),
        unknown_label_words=sum(unknown.values()),
        seconds=round(time.perf_counter() - start, 3),
    )
    return result


def evaluate_model(
    model_dir: str | Path,
    data_root: str | Path,
    family: str,
    variants: list[str],
    max_length: int,
    splits: tuple[str, ...] = ("dev", "test"),
    batch_size: int = 128,
    device: str | None = None,
    train_variant: str | None = None,
    algorithm: str | None = None,
) -> dict:
    """Load the model in ``model_dir`` once and score it on every variant x split.

    Reads ``data_root/{family}/{variant}/{split}.tsv``; ``train_variant`` and ``algorithm``
    only label the result (the layout written to results/eval/{family}/{variant}/{algorithm}.json).
    """
    import torch

    start = time.perf_counter()
    model, tokenizer, labels = load_finetuned(model_dir)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    model.eval()
    label2id = {label: i for i, label in enumerate(labels)}
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit and max_length > limit:
        log.warning(
            "max_length %d exceeds the model's %d positions; using %d", max_length, limit, limit
        )
        max_length = limit
    scores: dict[str, dict[str, dict]] = {split: {} for split in splits}
    with torch.no_grad():
        for variant in progress(variants, f"scoring {family} on {len(variants)} variants"):
            for split in splits:
                path = Path(data_root) / family / variant / f"{split}.tsv"
                result = evaluate_split(model, tokenizer, label2id, path, max_length, batch_size)
                scores[split][variant] = result
                log.info(
                    "%s/%s %s: F1 %.4f (P %.4f, R %.4f) on %d sentences",
                    family,
                    variant,
                    split,
                    result["f1"],
                    result["precision"],
                    result["recall"],
                    result["sentences"],
                )
    return {
        "family": family,
        "train_variant": train_variant,
        "algorithm": algorithm,
        "model_dir": str(model_dir),
        "seqeval_mode": SEQEVAL_MODE,
        "max_length": int(max_length),
        "labels": list(labels),
        "scores": scores,
        "seconds": round(time.perf_counter() - start, 3),
    }
