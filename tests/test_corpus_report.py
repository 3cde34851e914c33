"""The corpus report: entity spans, casing shares, lengths, unseen entities and warnings, checked
against hand-computed values and against seqeval on the real GermEval dev file."""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from nerhpo.analysis import corpus_report as cr
from nerhpo.data.corpus import Sentence, write_corpus
from nerhpo.training.model import train_wordpiece

ROOT = Path(__file__).resolve().parents[1]


def sent(pairs: str) -> Sentence:
    """``"Anna/B-PER Meier/I-PER lebt/O"`` -> a Sentence."""
    tokens, tags = zip(*(p.rsplit("/", 1) for p in pairs.split()))
    return Sentence(list(tokens), list(tags))


TRAIN = [
    sent("Anna/B-PER Meier/I-PER lebt/O in/O Berlin/B-LOC ./O"),
    sent("die/O berliner/B-LOCderiv Polizei/O kam/O"),
]
DEV = [sent("Anna/B-PER Meier/I-PER und/O Otto/B-PER fuhren/O nach/O Paris/B-ORG")]
TEST = [sent("Otto/B-PER sah/O Berlin/B-LOC")]


def test_entities_follow_iob2_and_an_orphan_i_starts_one():
    s = sent("A/B-PER B/I-PER C/I-LOC D/O E/B-ORG F/B-ORG G/I-ORG")
    assert cr.entities(s) == [
        cr.Entity("PER", "A B"),
        cr.Entity("LOC", "C"),
        cr.Entity("ORG", "E"),
        cr.Entity("ORG", "F G"),
    ]


def test_entities_agree_with_seqeval_on_the_real_germeval_dev_file(germeval_dev):
    from seqeval.metrics.sequence_labeling import get_entities

    ours = Counter(e.type for s in germeval_dev for e in cr.entities(s))
    theirs = Counter(kind for s in germeval_dev for kind, _, _ in get_entities(s.tags))
    assert ours == theirs and sum(ours.values()) > 2500


def test_casing_shares_are_counted_per_token():
    # entity tokens: Anna Meier Berlin berliner -> 3 capitalised of 4, 1 all lowercase;
    # outside: lebt in . die Polizei kam -> 1 capitalised of 6
    assert cr.casing(TRAIN) == {
        "capitalised_in_entities": 0.75,
        "capitalised_outside_entities": round(1 / 6, 4),
        "entity_tokens_lowercase": 0.25,
    }


def test_unseen_counts_mentions_by_type_and_text():
    u = cr.unseen(TRAIN, DEV)
    # Anna Meier is known; Otto (PER) and Paris (ORG) are not
    assert (u["mentions"], u["unseen_mentions"], u["unseen_share"]) == (3, 2, round(2 / 3, 4))
    assert {(e["type"], e["text"]) for e in u["examples"]} == {("PER", "Otto"), ("ORG", "Paris")}


def test_warnings_name_types_train_lacks_and_family_keys_the_corpus_lacks():
    tok = train_wordpiece([" ".join(s.tokens) for s in TRAIN + DEV + TEST], 200)
    splits = {"train": TRAIN, "dev": DEV, "test": TEST}
    report = cr.corpus_report(
        splits,
        {name: cr.subword_lengths(split, tok) for name, split in splits.items()},
        max_length=8,
        families={"original": {}, "simple": {"LOCderiv": "LOC", "PERpart": "PER"}},
    )
    assert report["warnings"] == [
        "dev holds entity type(s) that train lacks: ORG (a model cannot learn them; "
        "they count as misses)",
        "tag_families.simple maps type(s) the corpus lacks: PERpart",
    ]
    train = report["splits"]["train"]
    assert train["entities"] == {"LOC": 1, "LOCderiv": 1, "PER": 1}
    assert train["words_per_sentence"]["max"] == 6
    # [CLS] + at least one piece per word + [SEP]; the 6-word sentence is cut at 8 or not
    lengths = cr.subword_lengths(TRAIN, tok)
    assert all(n >= len(s.tokens) + 2 for n, s in zip(lengths, TRAIN))
    assert train["cut_at_max_length"] == sum(n > 8 for n in lengths) / 2
    md = cr.markdown(report)
    assert "| train" in md and "**Warning:** dev holds entity type(s)" in md


def test_the_script_writes_the_report_all_at_once(tmp_path):
    corpus = tmp_path / "corpus"
    for name, split in (("train", TRAIN), ("dev", DEV), ("test", TEST)):
        write_corpus(corpus / f"{name}.tsv", split)
    model = tmp_path / "model"
    train_wordpiece([" ".join(s.tokens) for s in TRAIN + DEV + TEST], 200).save_pretrained(model)
    params = tmp_path / "params.yaml"
    params.write_text((ROOT / "params.yaml").read_text())
    out = tmp_path / "results" / "corpus"
    cmd = [sys.executable, str(ROOT / "workflow/scripts/corpus_report.py"), "--params", str(params)]
    proc = subprocess.run(
        [*cmd, "--corpus", str(corpus), "--model", str(model), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["corpus.json", "corpus.md", "lengths.png"]
    assert json.loads((out / "corpus.json").read_text())["splits"]["dev"]["sentences"] == 1
    assert "train: 2 sentences, 10 tokens, 3 entities" in proc.stdout
    assert "dev holds entity type(s) that train lacks: ORG" in proc.stderr
    # a corpus that cannot be read: one line naming the file, and no output folder
    (corpus / "dev.tsv").write_text("1\tA\tB-PER\n")
    again = tmp_path / "results" / "again"
    proc = subprocess.run(
        [*cmd, "--corpus", str(corpus), "--model", str(model), "--out", str(again)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode != 0 and "dev.tsv:1:" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not again.exists()
