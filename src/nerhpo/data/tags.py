"""Tag families: how GermEval's entity types are mapped before training.

``original`` keeps GermEval's 12 outer types; other families map types onto new ones
(``simple`` folds deriv/part into the base type). Families are defined in params.yaml
alone; a type mapped to ``O`` is dropped.
"""

from __future__ import annotations

from pathlib import Path

from nerhpo.data.corpus import Sentence, read_corpus, repair_iob2

GERMEVAL_TYPES = tuple(
    f"{base}{suffix}" for base in ("PER", "LOC", "ORG", "OTH") for suffix in ("", "deriv", "part")
)


def map_tag(tag: str, mapping: dict[str, str]) -> str:
    if tag == "O":
        return tag
    new = mapping.get(tag[2:], tag[2:])
    return "O" if new == "O" else f"{tag[:2]}{new}"


def apply_family(sentences: list[Sentence], mapping: dict[str, str]) -> list[Sentence]:
    """Map every outer tag through ``mapping``; IOB2 stays valid (I- after a dropped type -> B-)."""
    out = []
    for s in sentences:
        tags, _ = repair_iob2([map_tag(t, mapping) for t in s.tags])
        out.append(Sentence(list(s.tokens), tags, s.nested, s.comment))
    return out


def family_types(mapping: dict[str, str], base_types=GERMEVAL_TYPES) -> list[str]:
    """The entity types a family produces from GermEval's types, sorted."""
    return sorted({mapping.get(t, t) for t in base_types} - {"O"})


def label_list(types: list[str] | set[str]) -> list[str]:
    """IOB2 labels for entity types: O first, then B-/I- per type, in a stable order."""
    labels = ["O"]
    for t in sorted(types):
        labels += [f"B-{t}", f"I-{t}"]
    return labels


def family_labels(data_dir: str | Path) -> list[str]:
    """The label list of a family's data (all splits, so dev/test types are never unknown)."""
    types = set()
    for split in ("train", "dev", "test"):
        for s in read_corpus(Path(data_dir) / f"{split}.tsv"):
            types.update(t[2:] for t in s.tags if t != "O")
    return label_list(types)
