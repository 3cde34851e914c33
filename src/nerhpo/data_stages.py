"""The data stages: the corpus (demo or the user's files) and its casing variants."""

from __future__ import annotations

import logging
from pathlib import Path

from nerhpo.casing_variants import make_variant
from nerhpo.corpus import Sentence, read_corpus, write_corpus
from nerhpo.tags import apply_family

log = logging.getLogger(__name__)
SPLITS = ("train", "dev", "test")


def load_source_corpus(corpus_params: dict, seed: int) -> dict[str, list[Sentence]]:
    """The corpus named by params: generated (demo) or read from the user's files."""
    if corpus_params["source"] == "demo":
        from nerhpo.demo_corpus import generate_corpus

        demo = corpus_params["demo"]
        return generate_corpus(
            demo["train_sentences"], demo["dev_sentences"], demo["test_sentences"], seed
        )
    splits = {}
    for split in SPLITS:
        path = corpus_params["files"][split]
        if not path:
            from nerhpo.config import ParamsError

            raise ParamsError(f"corpus.files.{split}: empty, but corpus.source is 'files'")
        splits[split] = read_corpus(path, corpus_params["format"])
    return splits


def build_corpus(corpus_params: dict, seed: int, out_dir: str | Path) -> dict[str, int]:
    """Write data/corpus/{train,dev,test}.tsv; everything is read before anything is written."""
    splits = load_source_corpus(corpus_params, seed)
    for split, sentences in splits.items():
        write_corpus(Path(out_dir) / f"{split}.tsv", sentences)
        log.info("%s: %d sentences", split, len(sentences))
    return {split: len(s) for split, s in splits.items()}


def build_variant(
    corpus_dir: str | Path,
    mapping: dict[str, str],
    variant: str,
    seed: int,
    mix_probability: float,
    out_dir: str | Path,
) -> None:
    """Write data/variants/{family}/{variant}/{split}.tsv for the three splits."""
    results = {}
    for split in SPLITS:
        sentences = apply_family(read_corpus(Path(corpus_dir) / f"{split}.tsv"), mapping)
        results[split] = make_variant(sentences, variant, seed, split, mix_probability)
    for split, sentences in results.items():
        write_corpus(Path(out_dir) / f"{split}.tsv", sentences)
    log.info("%s: %s", out_dir, {s: len(v) for s, v in results.items()})
