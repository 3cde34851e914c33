import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nerhpo.core.config import (
    ParamsError,
    _real_valued,
    _resolved,
    check_params,
    load_params,
    load_schema,
    params_reference,
    validate_params,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def params():
    return load_params(ROOT / "params.yaml")


def test_project_params_are_valid(params):
    assert params["corpus"]["source"] == "demo"
    assert set(params["tag_families"]) >= {"original", "simple"}


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda p: p.update(sead=1), "unknown key sead"),
        (lambda p: p["corpus"].update(fromat="conll"), "unknown key corpus.fromat"),
        (lambda p: p.update(seed="42"), "seed: expected integer, got str '42'"),
        (lambda p: p["corpus"].update(source="web"), "corpus.source: 'web' is not one of"),
        (lambda p: p["variants"].update(mix_probability=1.5), "variants.mix_probability: 1.5"),
        (lambda p: p["variants"].update(names=["title"]), "variants.names.0: 'title' is not one"),
        (
            lambda p: p["hpo"].update(train_variants=["cased-upper"]),
            "hpo.train_variants.0: 'cased-upper' is not one",
        ),
        (lambda p: p.pop("corpus"), "'corpus' is a required property"),
        (lambda p: p["tag_families"].update(Bad={}), "tag_families"),
        (lambda p: p["train"].update(batch_order="shuffled"), "train.batch_order: 'shuffled'"),
    ],
)
def test_errors_name_the_key(params, edit, message):
    bad = copy.deepcopy(params)
    edit(bad)
    with pytest.raises(ParamsError) as err:
        validate_params(bad)
    assert message in str(err.value)


def test_optional_variants_accepted(params):
    """upper (evaluation) and cased-lower-upper (case-augmented training) beyond the seven."""
    ok = copy.deepcopy(params)
    ok["variants"]["names"] += ["upper", "cased-lower-upper"]
    ok["hpo"]["train_variants"] += ["cased-lower-upper"]
    assert validate_params(ok)["variants"]["names"][-2:] == ["upper", "cased-lower-upper"]
    # named for training but not built: the cross-key check names the key
    bad = copy.deepcopy(params)
    bad["hpo"]["train_variants"] += ["cased-lower-upper"]
    with pytest.raises(ParamsError, match="hpo.train_variants.3: 'cased-lower-upper' is not in"):
        validate_params(bad)


def test_yaml_errors_name_file_and_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("seed: 1\ncorpus: [unclosed\n")
    with pytest.raises(ParamsError, match=r"params.yaml:\d+: not valid YAML"):
        load_params(path)
    path.write_text("- a list\n")
    with pytest.raises(ParamsError, match="expected a mapping"):
        load_params(path)


def test_yaml_is_loaded_safely(tmp_path, params):
    path = tmp_path / "params.yaml"
    text = yaml.safe_dump(params) + "evil: !!python/object/apply:os.system ['true']\n"
    path.write_text(text)
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(path)


# -- checks across keys -------------------------------------------------------------------------
def space(**specs):
    return lambda p: p["hpo"]["search_space"].update(specs)


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            space(learning_rate={"type": "loguniform", "low": 0.1, "high": 0.0025}),
            "  - hpo.search_space.learning_rate: low 0.1 must be below high 0.0025",
        ),
        (
            space(weight_decay={"type": "uniform", "low": 0.05, "high": 0.05}),
            "hpo.search_space.weight_decay: low 0.05 must be below high 0.05",
        ),
        (
            space(learning_rate={"type": "loguniform", "low": 0, "high": 0.0025}),
            "hpo.search_space.learning_rate.low: 0 must be above 0 for type loguniform",
        ),
        (
            space(weight_decay={"type": "loguniform", "low": -0.1, "high": 0.1}),
            "hpo.search_space.weight_decay.low: -0.1 must be above 0 for type loguniform",
        ),
        (
            space(batch_size={"type": "int", "low": 8, "high": 32.5}),
            "hpo.search_space.batch_size.high: 32.5 is not an integer (type int)",
        ),
        (
            space(batch_size={"type": "uniform", "low": 8, "high": 32}),
            "hpo.search_space.batch_size.type: 'uniform' draws real numbers",
        ),
        (
            space(batch_size={"type": "choice", "values": [8, 16, 8]}),
            "hpo.search_space.batch_size.values: 8 is listed more than once",
        ),
        (
            space(batch_size={"type": "choice", "values": [8, 16], "grid": [8, 8.0]}),
            "hpo.search_space.batch_size.grid: 8.0 is listed more than once",
        ),
        (
            space(hidden_dropout={"type": "uniform", "low": 0.0, "high": 1.5}),
            "hpo.search_space.hidden_dropout.high: 1.5 is greater than the maximum of 1, as for "
            "train.hidden_dropout",
        ),
        (
            space(batch_size={"type": "choice", "values": [8, 0]}),
            "hpo.search_space.batch_size.values.1: 0 is less than the minimum of 1",
        ),
        (
            space(batch_size={"type": "choice", "values": [8, "16"]}),
            "hpo.search_space.batch_size.values.1: '16' is not of type 'integer'",
        ),
        (
            lambda p: p["hpo"].update(families=["nosuch"]),
            "hpo.families.0: 'nosuch' is not in tag_families (original, simple)",
        ),
        (
            lambda p: p["hpo"].update(families=["simple", "simple"]),
            "hpo.families: 'simple' is listed more than once",
        ),
        (
            lambda p: p["hpo"]["compare"].update(families=["simple", "other"]),
            "hpo.compare.families.1: 'other' is not in tag_families",
        ),
        (
            lambda p: p["baseline"].update(family="nosuch"),
            "baseline.family: 'nosuch' is not in tag_families",
        ),
        (
            lambda p: p["variants"].update(names=["cased", "uncased"]),
            "hpo.train_variants.2: 'uncased-cased-mix' is not in variants.names (cased, uncased)",
        ),
        (
            lambda p: p["variants"].update(names=["cased", "uncased-cased-mix"]),
            "baseline.variant: 'uncased' is not in variants.names",
        ),
        (
            lambda p: (
                p["hpo"]["compare"].update(train_variants=["ne-lower"])
                or p["variants"]["names"].remove("ne-lower")
            ),
            "hpo.compare.train_variants.0: 'ne-lower' is not in variants.names",
        ),
        (
            lambda p: p["baseline"].update(variant="lower"),
            "baseline.variant: 'lower' is not one of",
        ),
        (
            lambda p: p["hpo"]["compare"].update(algorithms=["asha", "sgd"]),
            "hpo.compare.algorithms.1: 'sgd' is not one of",
        ),
        (
            lambda p: (
                p["sprint"].update(family="original", enabled=True)
                or p["hpo"].update(families=["simple"])
            ),
            "sprint.family: 'original' is not in hpo.families (simple); the sprint must be a main",
        ),
        (
            lambda p: (
                p["sprint"].update(variant="cased", enabled=True)
                or p["hpo"].update(train_variants=["uncased-cased-mix"])
            ),
            "sprint.variant: 'cased' is not in hpo.train_variants",
        ),
        (
            lambda p: p["sprint"].update(algorithm="random", enabled=True),
            "sprint.algorithm: 'random' is not in hpo.algorithms",
        ),
        (
            lambda p: p["sprint"].update(keep=9, num_samples=8, enabled=True),
            "sprint.keep: 9 is more than sprint.num_samples 8",
        ),
        (
            lambda p: p["hpo"]["asha"].update(grace_period=4) or p["hpo"].update(max_epochs=3),
            "hpo.asha.grace_period: 4 is more than hpo.max_epochs 3 (asha is in hpo.algorithms)",
        ),
        (
            lambda p: (
                p["hpo"]["tpe"].update(grace_period=4)
                or p["hpo"]["compare"].update(algorithms=["tpe"])
            ),
            "hpo.tpe.grace_period: 4 is more than hpo.max_epochs 3 (tpe is in "
            "hpo.compare.algorithms)",
        ),
        (
            lambda p: p["hpo"].update(
                search_space={"batch_size": {"type": "choice", "values": [8]}}
            ),
            "hpo.search_space: pbt (in hpo.algorithms) perturbs real-valued parameters",
        ),
        (
            lambda p: (
                p["hpo"].update(
                    algorithms=["grid"],
                    search_space={"learning_rate": {"type": "uniform", "low": 0.001, "high": 0.01}},
                )
                or p["sprint"].update(enabled=False)
            ),
            "hpo.search_space: grid (in hpo.algorithms) needs a grid list",
        ),
        (
            lambda p: p["model"]["scratch"].update(hidden_size=100, num_heads=3),
            "model.scratch.num_heads: 3 does not divide model.scratch.hidden_size 100",
        ),
        (
            lambda p: p["model"].update(max_length=512),
            "model.max_length: 512 is more than model.scratch.max_length 128",
        ),
        (
            lambda p: p["corpus"].update(source="files"),
            "corpus.files.train: empty, but corpus.source is 'files'",
        ),
        (
            lambda p: p["tag_families"]["simple"].update(O="PER"),
            "tag_families.simple.O: O is no entity type",
        ),
        (
            lambda p: (
                p["objectives"].update(family="simple") or p["hpo"].update(families=["original"])
            ),
            "objectives.family: 'simple' is not in hpo.families",
        ),
        (
            lambda p: p["objectives"].update(train_variants=["cased", "ne-lower"]),
            "objectives.train_variants.1: 'ne-lower' is not in hpo.train_variants",
        ),
        (
            lambda p: p["objectives"].update(objective="own"),
            "objectives.objective: 'own' is hpo.objective already",
        ),
        (
            lambda p: p["hpo"].update(objective="best"),
            "hpo.objective: 'best' is not one of",
        ),
    ],
)
def test_cross_key_errors_name_the_key(params, edit, message):
    bad = copy.deepcopy(params)
    edit(bad)
    with pytest.raises(ParamsError) as err:
        validate_params(bad)
    text = str(err.value)
    assert message in text
    assert text.startswith("params.yaml: invalid settings:\n  - ")
    assert all(len(line) < 400 for line in text.splitlines())


@pytest.mark.parametrize(
    "edit",
    [
        lambda p: p["sprint"].update(enabled=False, family="nosuch", algorithm="random", keep=99),
        lambda p: p["model"].update(name_or_path="some/model", max_length=512),
        lambda p: p["hpo"]["compare"].update(families=["original"], algorithms=["random", "gp"]),
        lambda p: (
            p["hpo"]["asha"].update(grace_period=5)
            or p["hpo"].update(algorithms=["bohb"])
            or p["hpo"]["compare"].update(algorithms=["bohb"])
            or p["sprint"].update(algorithm="bohb")
            or p["objectives"].update(algorithm="bohb")
            or p["pretrain_hpo"]["finetune"].update(algorithm="bohb")
        ),
        lambda p: p["hpo"]["search_space"].update(batch_size={"type": "int", "low": 8, "high": 64}),
        lambda p: p["objectives"].update(enabled=False, family="nosuch", objective="own"),
        lambda p: p["hpo"].update(objective="mean") or p["objectives"].update(objective="worst"),
    ],
)
def test_cross_key_checks_accept_what_the_code_handles(params, edit):
    """A disabled sprint is not checked; a compared study need not be a main study; the
    scratch block matters only for the scratch model; an algorithm's settings matter only
    where it runs; an int range is fine for batch_size."""
    ok = copy.deepcopy(params)
    edit(ok)
    assert validate_params(ok) is ok


def test_cross_key_checks_skip_broken_shapes(params):
    """Where the schema already names a key, the checks across keys neither crash nor repeat it."""
    bad = copy.deepcopy(params)
    bad["hpo"]["families"] = "simple"
    bad["hpo"]["search_space"]["learning_rate"] = {"type": "loguniform", "low": "0", "high": 1}
    bad["sprint"] = {"enabled": True, "family": ["x"]}
    bad["variants"]["names"] = None
    bad["baseline"]["variant"] = "lower"
    with pytest.raises(ParamsError) as err:
        validate_params(bad)
    lines = str(err.value).splitlines()[1:]
    assert any(line.startswith("  - hpo.families: expected array") for line in lines)
    assert sum("baseline.variant" in line for line in lines) == 1
    assert "Traceback" not in str(err.value)


def test_check_params_exits_with_the_message(params):
    assert check_params(params) is params
    bad = copy.deepcopy(params)
    bad["hpo"]["families"] = ["nosuch"]
    with pytest.raises(SystemExit) as err:
        check_params(bad, "my.yaml")
    assert str(err.value).startswith("my.yaml: invalid settings:\n  - hpo.families.0: 'nosuch'")


def test_schema_names_what_the_code_defines():
    """The schema's lists of variants, algorithms and searchable parameters are the code's."""
    from nerhpo.core.hparams import HPARAMS
    from nerhpo.data.casing import VARIANTS
    from nerhpo.search.space import CONTINUOUS
    from nerhpo.search.study import ALGORITHMS

    schema = load_schema()
    assert tuple(schema["$defs"]["variant"]["enum"]) == VARIANTS
    assert tuple(schema["$defs"]["algorithm"]["enum"]) == ALGORITHMS
    blocks = schema["properties"]["hpo"]["required"]
    assert set(ALGORITHMS) <= set(blocks)  # every algorithm has its settings block
    space = schema["properties"]["hpo"]["properties"]["search_space"]
    assert tuple(space["propertyNames"]["enum"]) == HPARAMS
    assert tuple(_real_valued()) == CONTINUOUS  # what pbt perturbs


def test_snakemake_stops_on_bad_params_with_one_line_per_key(tmp_path):
    """The Snakefile runs the same checks: `snakemake -n` ends with the message, no traceback."""
    from project_copy import make_copy, run, tiny_params

    bad = tiny_params()
    bad["hpo"]["families"] = ["nosuch"]
    root = make_copy(tmp_path / "project", bad, git=False)
    proc = run(["snakemake", "-n", "--cores", "1", "--quiet"], root, timeout=300, check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "KeyError" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert "params.yaml: invalid settings:" in lines, proc.stderr
    assert "  - hpo.families.0: 'nosuch' is not in tag_families (original, simple)" in lines


# -- the key table ------------------------------------------------------------------------------
def test_every_schema_key_has_a_description():
    def walk(node, path):
        node = _resolved(node)
        for name, sub in node.get("properties", {}).items():
            yield f"{path}.{name}".lstrip("."), sub
            yield from walk(sub, f"{path}.{name}")
        free = node.get("additionalProperties")
        if isinstance(free, dict):
            yield f"{path}.<name>".lstrip("."), free
            yield from walk(free, f"{path}.<name>")

    missing = [
        key for key, node in walk(load_schema(), "") if not _resolved(node).get("description")
    ]
    assert not missing, missing


def test_configuration_doc_is_up_to_date(params):
    """docs/configuration.md is what params_doc.py writes (regenerate it after a change)."""
    doc = ROOT / "docs" / "configuration.md"
    expected = params_reference(load_schema(), params)
    assert doc.read_text(encoding="utf-8") == expected, (
        "docs/configuration.md is out of date: run python workflow/scripts/params_doc.py"
    )
    for key in ("hpo.search_space.<name>.low", "sprint.keep", "tag_families.<family>"):
        assert f"| `{key}` |" in expected
    assert "| `hpo.max_epochs` | integer ≥ 1 | `3` | epochs per trial at most |" in expected


def test_params_doc_script_writes_and_checks(tmp_path):
    out = tmp_path / "configuration.md"
    script = [sys.executable, str(ROOT / "workflow" / "scripts" / "params_doc.py")]
    run = lambda *a: subprocess.run(  # noqa: E731
        [*script, "--params", str(ROOT / "params.yaml"), "--out", str(out), *a],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run("--check").returncode == 1  # no file yet
    assert run().returncode == 0
    assert out.read_text(encoding="utf-8") == (ROOT / "docs" / "configuration.md").read_text(
        encoding="utf-8"
    )
    assert run("--check").returncode == 0


# ------------------------------------------------------------------ corpus: users' files


def corpus_files(p, parts, **files):
    p["corpus"].update(source="files", parts=parts)
    p["corpus"]["files"] = {"train": "a.tsv", "dev": "b.tsv", "test": "c.tsv", **files}


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda p: p["corpus"].update(format="tsv"), "corpus.format: 'tsv' is not one of"),
        (lambda p: p["corpus"].update(tag_scheme="bio"), "corpus.tag_scheme: 'bio' is not one"),
        (lambda p: p["corpus"].update(invisible="strip"), "corpus.invisible: 'strip' is not one"),
        (lambda p: p["corpus"].update(token_prefix="de :"), "corpus.token_prefix: 'de :' does"),
        (lambda p: p["corpus"].update(token_prefix=""), "corpus.token_prefix: '' should be non"),
        (lambda p: p["corpus"].update(parts={"dev": "half"}), "corpus.parts.dev: 'half' does not"),
        (lambda p: p["corpus"].update(parts={"dev": 1}), "corpus.parts.dev: expected string"),
        (lambda p: p["corpus"].update(parts={"valid": "1/2"}), "unknown key corpus.parts.valid"),
        (lambda p: p["corpus"].pop("parts"), "corpus: 'parts' is a required property"),
        (
            lambda p: corpus_files(p, {"dev": "3/2"}),
            "corpus.parts.dev: '3/2' is no part k/n with 1 <= k <= n and n >= 2",
        ),
        (
            lambda p: corpus_files(p, {"dev": "1/1"}),
            "corpus.parts.dev: '1/1' is no part k/n",
        ),
        (
            lambda p: corpus_files(p, {"dev": "0/2"}),
            "corpus.parts.dev: '0/2' is no part k/n",
        ),
        (
            lambda p: corpus_files(p, {"dev": "1/2", "test": "1/2"}, test="b.tsv"),
            "corpus.parts.test: '1/2', but corpus.parts.dev '1/2' of the same file takes the "
            "same part (the splits would overlap)",
        ),
        (
            lambda p: corpus_files(p, {"dev": "1/2", "test": "2/3"}, test="./b.tsv"),
            "corpus.parts.test: '2/3', but corpus.parts.dev '1/2' of the same file cuts it into "
            "other parts",
        ),
        (
            lambda p: corpus_files(p, {"dev": "1/2"}, train="b.tsv"),
            "corpus.parts.dev: '1/2' of b.tsv, but corpus.files.train reads that file whole",
        ),
    ],
)
def test_corpus_reading_settings_name_the_key(params, edit, message):
    bad = copy.deepcopy(params)
    edit(bad)
    with pytest.raises(ParamsError) as err:
        validate_params(bad)
    assert message in str(err.value)
    assert all(len(line) < 400 for line in str(err.value).splitlines())


@pytest.mark.parametrize(
    "edit",
    [
        lambda p: corpus_files(p, {"dev": "1/2", "test": "2/2"}, test="b.tsv"),
        lambda p: corpus_files(
            p, {"train": "1/3", "dev": "2/3", "test": "3/3"}, dev="a.tsv", test="a.tsv"
        ),
        lambda p: corpus_files(p, {"dev": "2/2"}),  # a part of its own file: fine
        lambda p: corpus_files(p, {}, test="b.tsv"),  # one file whole twice: as before
        lambda p: p["corpus"].update(parts={"dev": "5/2"}),  # demo: corpus.parts unused
        lambda p: p["corpus"].update(
            format="conll", tag_scheme="bilou", invisible="keep", token_prefix="de:"
        ),
    ],
)
def test_corpus_reading_settings_accepted(params, edit):
    ok = copy.deepcopy(params)
    edit(ok)
    assert validate_params(ok) is ok


def test_corpus_schema_names_what_the_reader_defines():
    from nerhpo.data.corpus import READ_FORMATS, TAG_SCHEMES
    from nerhpo.data.tokens import INVISIBLE_CHOICES

    corpus = load_schema()["properties"]["corpus"]["properties"]
    assert corpus["format"]["enum"] == list(READ_FORMATS)
    assert corpus["tag_scheme"]["enum"] == list(TAG_SCHEMES)
    assert corpus["invisible"]["enum"] == list(INVISIBLE_CHOICES)
