import copy
from pathlib import Path

import pytest
import yaml

from nerhpo.config import ParamsError, load_params, validate_params

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
        (lambda p: p["variants"].update(names=["upper"]), "variants.names.0: 'upper' is not one"),
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
