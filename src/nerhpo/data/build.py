"""The data stages: the corpus (demo or the user's files) and its casing variants.

Only the corpus stage reads the user's files, with the options of params corpus.*; every file
it writes is canonical GermEval TSV with IOB2 tags, which later stages read as is.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from nerhpo.data.casing import make_variant
from nerhpo.data.corpus import (
    CorpusError,
    ReadStats,
    Sentence,
    describe_read,
    read_corpus,
    read_corpus_with_stats,
    write_corpus,
)
from nerhpo.data.tags import apply_family

log = logging.getLogger(__name__)
SPLITS = ("train", "dev", "test")


def load_source_corpus(corpus_params: dict, seed: int) -> dict[str, list[Sentence]]:
    """The corpus named by params: generated (demo) or read from the user's files, each file
    read once (corpus.parts may cut one file into several splits)."""
    if corpus_params["source"] == "demo":
        from nerhpo.data.demo import generate_corpus

        demo = corpus_params["demo"]
        return generate_corpus(
            demo["train_sentences"], demo["dev_sentences"], demo["test_sentences"], seed
        )
    options, parts = read_options(corpus_params), corpus_params["parts"]
    read: dict[str, tuple[list[Sentence], ReadStats]] = {}
    splits = {}
    for split in SPLITS:
        path = corpus_params["files"][split]
        if not path:
            from nerhpo.core.config import ParamsError

            raise ParamsError(f"corpus.files.{split}: empty, but corpus.source is 'files'")
        sentences, stats = read_once(read, path, options)
        splits[split] = take_part(path, sentences, stats.documents, parts.get(split), split)
    return splits


def read_once(read: dict, path: str, options: dict) -> tuple[list[Sentence], ReadStats]:
    """Read ``path`` unless ``read`` (by normalised path) has it; report what was found."""
    key = os.path.normpath(path)
    if key not in read:
        read[key] = read_corpus_with_stats(path, **options)
        log.info("%s: %s", path, describe_read(read[key][1]))
    return read[key]


def read_options(corpus_params: dict) -> dict:
    """The reader's options for the user's files (corpus.format, tag_scheme, invisible,
    token_prefix); the pipeline's own files are read with the reader's defaults."""
    return {
        "fmt": corpus_params["format"],
        "tag_scheme": corpus_params["tag_scheme"],
        "invisible": corpus_params["invisible"],
        "token_prefix": corpus_params["token_prefix"],
    }


def parse_part(text: str) -> tuple[int, int]:
    """``"1/2"`` -> (1, 2): part 1 of 2 (corpus.parts; checked in nerhpo.core.config)."""
    part, of = (int(n) for n in text.split("/"))
    return part, of


def part_bounds(n: int, part: int, of: int, documents: list[int] = ()) -> tuple[int, int]:
    """[start, end) of part ``part`` of ``of`` contiguous parts of ``n`` sentences, in file
    order (reproducible). With documents (-DOCSTART- lines; their first sentences), every
    cut moves to the nearest document start, so that no document is split."""
    starts = [d for d in documents if 0 < d < n]

    def cut(k: int) -> int:
        at = k * n // of
        return min(starts, key=lambda d: (abs(d - at), d)) if starts else at

    return (cut(part - 1) if part > 1 else 0), (cut(part) if part < of else n)


def take_part(
    path: str, sentences: list[Sentence], documents: list[int], part: str | None, split: str
) -> list[Sentence]:
    """The sentences of ``split``: all of its file, or the part corpus.parts names."""
    if not part:
        return sentences
    k, of = parse_part(part)
    start, end = part_bounds(len(sentences), k, of, documents)
    if start >= end:
        raise CorpusError(
            path,
            None,
            f"corpus.parts.{split} {part}: that part is empty (the file has {len(sentences)} "
            f"sentence(s), {len(documents)} -DOCSTART- document(s))",
        )
    log.info(
        "%s: part %s of %s, sentences %d-%d of %d",
        split,
        part,
        path,
        start + 1,
        end,
        len(sentences),
    )
    return sentences[start:end]


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
