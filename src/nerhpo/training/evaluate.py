"""Evaluate one exported HPO model on the dev and test splits of every casing variant.

The model is loaded once; each variant x split is read, encoded, predicted (no gradients,
eval mode, length-sorted batches) and scored with seqeval in its default, conlleval-compatible
mode: entity level, micro average, plus precision/recall/F1/support per entity type.
Words cut off beyond the model's maximum length are predicted as O, counted and reported.
Labels in the data that the model does not know are encoded as O (the model cannot predict
them) but scored against the true gold tags, so they count as misses, never as a crash.

Two more results, from predictions already made or cheap to make:

* a model trained on ``cased`` is also scored on the uncased dev/test after truecasing them
  (nerhpo.data.truecase, trained on the family's cased training split): the route
  ``uncased+truecase`` under the result's ``routes`` key, with the truecaser's token accuracy
  against the cased text (``scores`` keeps only the casing variants, as its readers expect);
* with ``cased`` and ``uncased`` among the variants, the entities found on cased text but
  missed on its uncased copy (nerhpo.training.casing_errors), returned beside the result
  (``evaluate_all``), written to results/errors/ by the evaluate stage.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from nerhpo.core.progress import progress
from nerhpo.data.corpus import Sentence, read_corpus
from nerhpo.data.truecase import Truecaser, token_accuracy
from nerhpo.training.casing_errors import MATCH, casing_errors
from nerhpo.training.model import load_finetuned

log = logging.getLogger(__name__)

SEQEVAL_MODE = "default (conlleval-compatible, entity level, micro average)"
AVERAGES = ("micro avg", "macro avg", "weighted avg")
CASED, UNCASED = "cased", "uncased"
TRUECASE_ROUTE = "uncased+truecase"  # the uncased text truecased, before the model


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
    return predict_split(model, tokenizer, label2id, path, max_length, batch_size).result


@dataclass
class Predicted:
    result: dict  # the scores (evaluate_split's)
    sentences: list[Sentence]  # what was predicted, with the true tags
    pred: list[list[str]]  # the predicted tags, word by word


def predict_split(
    model,
    tokenizer,
    label2id: dict[str, int],
    path: str | Path,
    max_length: int,
    batch_size: int,
    transform=None,
) -> Predicted:
    """Predict and score one corpus file; ``transform`` (tokens -> tokens, e.g. a truecaser)
    changes the words before the model sees them (the tags stay)."""
    from nerhpo.training.trainer import encode, predict

    start = time.perf_counter()
    sentences = read_corpus(path)
    if transform is not None:
        sentences = [Sentence(transform(s.tokens), list(s.tags)) for s in sentences]
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
    return Predicted(result, sentences, pred)


@dataclass
class Evaluation:
    result: dict  # evaluate_model's result (results/eval/...)
    errors: dict  # the casing error analysis (results/errors/...)


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
    label the result (the layout written to results/eval/{family}/{variant}/{algorithm}.json),
    and a ``cased`` train_variant adds the truecased route (``evaluate_all``).
    """
    return evaluate_all(
        model_dir,
        data_root,
        family,
        variants,
        max_length,
        splits,
        batch_size,
        device,
        train_variant,
        algorithm,
    ).result


def evaluate_all(
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
    truecase: bool | None = None,
) -> Evaluation:
    """``evaluate_model``'s result and the casing error analysis, from one model load.

    ``truecase`` (default: when train_variant is ``cased`` and ``uncased`` is among the
    variants) adds the route ``uncased+truecase``: a truecaser trained on
    ``data_root/{family}/cased/train.tsv`` applied to the uncased dev/test.
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
    if truecase is None:
        truecase = train_variant == CASED and UNCASED in variants
    scores: dict[str, dict[str, dict]] = {split: {} for split in splits}
    kept: dict[tuple[str, str], Predicted] = {}  # (variant, split) for the error analysis
    run = (model, tokenizer, label2id)
    with torch.no_grad():
        for variant in progress(variants, f"scoring {family} on {len(variants)} variants"):
            for split in splits:
                path = Path(data_root) / family / variant / f"{split}.tsv"
                predicted = predict_split(*run, path, max_length, batch_size)
                result = predicted.result
                if variant in (CASED, UNCASED):
                    kept[variant, split] = predicted
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
        routes = (
            {TRUECASE_ROUTE: truecase_route(run, data_root, family, splits, max_length, batch_size)}
            if truecase
            else None
        )
    labels_of = {"family": family, "train_variant": train_variant, "algorithm": algorithm}
    result = {
        **labels_of,
        "model_dir": str(model_dir),
        "seqeval_mode": SEQEVAL_MODE,
        "max_length": int(max_length),
        "labels": list(labels),
        "scores": scores,
    }
    if routes:
        result["routes"] = routes
    result["seconds"] = round(time.perf_counter() - start, 3)
    return Evaluation(result, {**labels_of, **error_analysis(kept, data_root, family, splits)})


def truecase_route(
    run: tuple, data_root: str | Path, family: str, splits, max_length: int, batch_size: int
) -> dict:
    """The uncased splits truecased (a truecaser trained on the cased training split), then
    scored; with the truecaser's token accuracy against the cased splits."""
    family_dir = Path(data_root) / family
    train = family_dir / CASED / "train.tsv"
    truecaser = Truecaser.train(s.tokens for s in read_corpus(train))
    out: dict = {
        "input": UNCASED,
        "truecaser": {
            "trained_on": str(train),
            "fallback": truecaser.fallback,
            "known_tokens": len(truecaser.forms),
        },
        "scores": {},
        "token_accuracy": {},
    }
    for split in splits:
        path = family_dir / UNCASED / f"{split}.tsv"
        predicted = predict_split(*run, path, max_length, batch_size, truecaser.truecase)
        out["scores"][split] = predicted.result
        cased = [s.tokens for s in read_corpus(family_dir / CASED / f"{split}.tsv")]
        lowered = [s.tokens for s in read_corpus(path)]
        out["token_accuracy"][split] = token_accuracy(truecaser, cased, lowered)
        log.info(
            "%s/%s %s %s: F1 %.4f, truecaser token accuracy %.4f",
            family,
            UNCASED,
            TRUECASE_ROUTE,
            split,
            predicted.result["f1"],
            out["token_accuracy"][split]["accuracy"] or 0.0,
        )
    return out


def error_analysis(
    kept: dict[tuple[str, str], Predicted], data_root: str | Path, family: str, splits
) -> dict:
    """Per split, the entities found on cased text and missed on its uncased copy."""
    if not all((v, split) in kept for v in (CASED, UNCASED) for split in splits):
        return {"skipped": f"needs both {CASED!r} and {UNCASED!r} among the evaluated variants"}
    out = {"compared": [CASED, UNCASED], "match": MATCH, "splits": {}}
    for split in splits:
        c, u = kept[CASED, split], kept[UNCASED, split]
        where = str(Path(data_root) / family / UNCASED / f"{split}.tsv")
        out["splits"][split] = casing_errors(c.sentences, c.pred, u.sentences, u.pred, where)
    return out
