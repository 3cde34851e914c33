"""Shared fixtures: the real GermEval files (read from ../shared, never copied) and paths."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GERMEVAL = ROOT.parent / "shared" / "data" / "germeval2014"


@pytest.fixture(scope="session")
def germeval_dir() -> Path:
    if not (GERMEVAL / "NER-de-dev.tsv").exists():
        pytest.fail(f"GermEval files missing: expected {GERMEVAL} beside the project")
    return GERMEVAL


@pytest.fixture(scope="session")
def germeval_dev(germeval_dir):
    from nerhpo.data.corpus import read_corpus

    return read_corpus(germeval_dir / "NER-de-dev.tsv")
