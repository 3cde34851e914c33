"""The data stages: the corpus (demo or the user's files) and its casing variants."""

from __future__ import annotations

import logging
from pathlib import Path

from nerhpo.data.casing import make_variant
from nerhpo.data.corpus import Sentence, read_corpus, write_corpus
from nerhpo.data.tags import apply_family

log = logging.getLogger(__name__)
SPLITS = ("train", "dev", "test")


def load_source_corpus(corpus_params: dict, seed: int) -> dict[str, list[Sentence]]:
    """The corpus named by params: generated (demo) or read from the user's files."""
    if corpus_params["source"] == "demo":
        from nerhpo.data.demo import generate_corpus

        demo = corpus_params["demo"]
        return generate_corpus(
            demo["train_sentences"], demo["dev_sentences"], demo["test_sentences"], seed
        )
    splits = {}
    for split in SPLITS:
        path = corpus_params["files"][split]
        if not path:
            from nerhpo.core.config import ParamsError

            raise ParamsError(f"corpus.files.{split}: empty, but corpus.source is 'files'")
        splits[split] = read_corpus(path, corpus_params["format"])
    return splits


def build_corpus(corpus_params: dict, seed: int, out_dir: str | Path) -> dict[str, int]:
    """Write data/corpus/{train,dev,test}.tsv; everything is read before anything is written."""
    splits = load_source_corpus(corpus_params, seed)
    write_splits(out_dir, splits)
    for split, sentences in splits.items():
        log.info("%s: %d sentences", split, len(sentences))
    return {split: len(s) for split, s in splits.items()}


def write_splits(out_dir: str | Path, splits: dict[str, list[Sentence]]) -> None:
    """Write {split}.tsv for every split, all or none: if one write fails (a full disk), the
    files this call already wrote are removed, so no stage is left looking half done."""
    written: list[Path] = []
    try:
        for split, sentences in splits.items():
            path = Path(out_dir) / f"{split}.tsv"
            write_corpus(path, sentences)
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


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
    write_splits(out_dir, results)
    log.info("%s: %s", out_dir, {s: len(v) for s, v in results.items()})
