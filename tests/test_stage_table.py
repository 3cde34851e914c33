"""The stage table (nerhpo.pipeline.stages): dvc.yaml is generated from it and current; a study's
settings are its identity and nothing else; code dependencies follow the imports; the saved
state of a study is kept when only lists, resources or the comparison change."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nerhpo.core import layout
from nerhpo.pipeline import stages
from nerhpo.search.identity import saved_state_matches, study_fingerprint
from nerhpo.search.study import Study

ROOT = Path(__file__).resolve().parents[1]
PARAMS = yaml.safe_load((ROOT / "params.yaml").read_text())
STUDY = {"family": "original", "variant": "cased", "algorithm": "asha"}


def edited(**changes) -> dict:
    """params.yaml with dotted keys set to new values."""
    params = copy.deepcopy(PARAMS)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = params
        for part in parents:
            node = node[part]
        node[last] = value
    return params


def test_committed_dvc_yaml_is_generated_from_the_table():
    assert (ROOT / "dvc.yaml").read_text() == stages.dvc_yaml()
    check = [sys.executable, str(ROOT / "workflow/scripts/write_dvc_yaml.py"), "--check"]
    assert subprocess.run(check, capture_output=True, text=True).returncode == 0


def test_write_dvc_yaml_check_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / "dvc.yaml"
    stale.write_text("stages: {}\n")
    script = str(ROOT / "workflow/scripts/write_dvc_yaml.py")
    proc = subprocess.run(
        [sys.executable, script, "--check", "--out", str(stale)], capture_output=True, text=True
    )
    assert proc.returncode == 1 and "out of date" in proc.stderr
    subprocess.run([sys.executable, script, "--out", str(stale)], check=True)
    assert stale.read_text() == stages.dvc_yaml()


@pytest.mark.parametrize(
    "change",
    [
        {"hpo__algorithms": ["asha", "bohb", "pbt", "random"]},
        {"hpo__families": ["original"]},
        {"hpo__train_variants": ["cased", "uncased", "uncased-cased-mix", "ne-lower"]},
        {"hpo__gpus_per_trial": 0.25},
        {"hpo__gpus_per_job": 1},
        {"hpo__cpus_per_trial": 2},
        {"hpo__ray_address": "auto"},
        {"hpo__repeats": 3},
        {
            "hpo__compare": {
                "families": ["original"],
                "train_variants": ["cased"],
                "algorithms": ["asha"],
            }
        },
        {
            "hpo__pbt": {
                "perturbation_interval": 2,
                "quantile_fraction": 0.5,
                "resample_probability": 0.25,
            }
        },
        {"baseline__batch_sizes": [16, 32]},
        {"sprint__num_samples": 3},
    ],
)
def test_a_study_does_not_depend_on_lists_resources_or_other_algorithms(change):
    before = stages.settings("hpo", PARAMS, STUDY)
    assert stages.settings("hpo", edited(**change), STUDY) == before


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 7},
        {"train__learning_rate": 0.002},
        {"model__max_length": 64},
        {"model__name_or_path": "/models/gbert"},
        {"hpo__num_samples": 8},
        {"hpo__max_epochs": 4},
        {"hpo__concurrency": 2},
        {"hpo__search_space__batch_size": {"type": "choice", "values": [8, 16]}},
        {"hpo__asha": {"grace_period": 2, "reduction_factor": 3}},
        {"hpo__objective": "worst"},
    ],
)
def test_a_study_depends_on_what_can_change_its_result(change):
    before = stages.settings("hpo", PARAMS, STUDY)
    assert stages.settings("hpo", edited(**change), STUDY) != before


def test_dvc_and_snakemake_read_the_same_keys():
    dvc = yaml.safe_load(stages.dvc_yaml())["stages"]
    for name in ("hpo", "repeats", "evaluate"):
        filled = [k.replace("${item.algorithm}", "asha") for k in dvc[name]["params"]]
        assert filled == list(stages.settings(name, PARAMS, STUDY)), name
    # one study's keys, filled: exactly the study's identity
    assert set(stages.settings("hpo", PARAMS, STUDY)) == {
        "seed",
        "train",
        "model.name_or_path",
        "model.max_length",
        "hpo.num_samples",
        "hpo.max_epochs",
        "hpo.concurrency",
        "hpo.search_space",
        "hpo.objective",
        "hpo.asha",
    }


def test_commands_are_the_same_for_both_tools():
    dvc = yaml.safe_load(stages.dvc_yaml())["stages"]["hpo"]["cmd"]
    smk = stages.snakemake_shell("hpo", PARAMS)
    as_dvc = smk.replace("{wildcards.", "${item.").replace("{params.file}", "params.yaml")
    assert as_dvc == dvc
    args = stages.arguments("hpo", PARAMS, **STUDY)
    assert args[args.index("--out") + 1] == "results/hpo/original/cased/asha"
    assert args[args.index("--data") + 1] == "data/variants/original/cased"


def test_code_dependencies_follow_the_imports():
    pretrain = stages.code_deps("pretrain.py")
    assert (
        "src/nerhpo/training/pretraining.py" in pretrain
        and "src/nerhpo/training/model.py" in pretrain
    )
    assert not any("/search/" in d for d in pretrain)  # pretraining imports no HPO module
    hpo = stages.code_deps("hpo.py")
    for module in (
        "search/runner.py",
        "search/study.py",
        "training/trainer.py",
        "training/model.py",
    ):
        assert f"src/nerhpo/{module}" in hpo
    for deps in map(stages.code_deps, {s.script for s in stages.STAGES.values()}):
        assert all((ROOT / d).is_file() for d in deps)


def test_code_dependencies_cover_what_a_script_really_imports():
    """Run the evaluate script's imports (its main() imports lazily) and compare."""
    probe = (
        "import sys, runpy; sys.argv = ['evaluate.py', '--help']\n"
        "try:\n    runpy.run_path('workflow/scripts/evaluate.py', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "import nerhpo.training.evaluate, nerhpo.core.atomic\n"
        "print('\\n'.join('MODULE ' + m.__file__ for n, m in sys.modules.items()"
        " if n.startswith('nerhpo') and getattr(m, '__file__', None)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    files = [line.removeprefix("MODULE ") for line in out if line.startswith("MODULE ")]
    loaded = {str(Path(f).resolve().relative_to(ROOT)) for f in files}
    assert "src/nerhpo/training/evaluate.py" in loaded
    assert loaded <= set(stages.code_deps("evaluate.py"))


def write_study_data(root: Path) -> Path:
    data = root / "data"
    data.mkdir()
    for split in ("train", "dev", "test"):
        (data / f"{split}.tsv").write_text(f"#\t{split}\n1\tBerlin\tB-LOC\tO\n\n")
    return data


def study(data: Path, tmp_path: Path, **hpo_changes) -> Study:
    hpo = {**PARAMS["hpo"], **hpo_changes}
    return Study(
        family="original",
        variant="cased",
        algorithm="asha",
        data_dir=data,
        model_dir="scratch",
        out_dir=tmp_path / "study",
        labels=["O", "B-LOC", "I-LOC"],
        hpo=hpo,
        defaults=PARAMS["train"],
        max_length=PARAMS["model"]["max_length"],
        seed=PARAMS["seed"],
    )


def test_saved_state_survives_new_lists_and_resources(tmp_path):
    data = write_study_data(tmp_path)
    saved = study(data, tmp_path)
    stamp = tmp_path / "study.fingerprint"
    stamp.write_text(study_fingerprint(saved))
    for change in (
        {"algorithms": ["asha", "bohb", "pbt", "random"]},
        {"families": ["original", "simple", "coarse"]},
        {"train_variants": ["cased"]},
        {"gpus_per_trial": 0.5, "cpus_per_trial": 4, "gpus_per_job": 1},
        {"ray_address": "10.0.0.1:6379", "repeats": 5, "retrain_seeds": 0},
        {"pbt": {"perturbation_interval": 2}},
    ):
        again = study(data, tmp_path, **change)
        assert saved_state_matches(stamp, again, study_fingerprint(again)), change
    for change in ({"num_samples": 9}, {"asha": {"grace_period": 2, "reduction_factor": 3}}):
        again = study(data, tmp_path, **change)
        assert not saved_state_matches(stamp, again, study_fingerprint(again)), change
    (data / "train.tsv").write_text("#\ttrain\n1\tParis\tB-LOC\tO\n\n")  # other data
    assert not saved_state_matches(stamp, saved, study_fingerprint(saved))


def test_a_state_saved_by_the_previous_version_is_resumed(tmp_path):
    from nerhpo.search.identity import legacy_fingerprint

    data = write_study_data(tmp_path)
    saved = study(data, tmp_path)
    stamp = tmp_path / "study.fingerprint"
    stamp.write_text(legacy_fingerprint(saved))
    assert saved_state_matches(stamp, saved, study_fingerprint(saved))
    assert legacy_fingerprint(saved) != study_fingerprint(saved)


def test_layout_paths_fill_and_move_under_another_root(tmp_path):
    assert layout.path(layout.STUDY_DIR, **STUDY) == Path("results/hpo/original/cased/asha")
    moved = layout.under(tmp_path, layout.EVAL_FILE, **STUDY)
    assert moved == tmp_path / "eval/original/cased/asha.json"
