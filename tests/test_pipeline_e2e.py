"""The whole pipeline on a tiny config: Snakemake and DVC give the same README tables; the report
is idempotent; DVC tracks params per stage; push and pull restore a model that scores the same."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from project_copy import make_copy, run, tiny_params
from test_hpo import TINY_MODEL

pytestmark = pytest.mark.slow

VARIANT_COLUMNS = [
    "cased",
    "uncased",
    "uncased-cased-mix",
    "uncased-cased-both",
    "ne-lower",
    "ne-lower-cased-mix",
    "ne-lower-cased-both",
]


def e2e_params(sprint: bool = True):
    """Tiny settings; the DVC run leaves the sprint and the objective's studies off (their stages
    then write only a marker)."""
    return tiny_params(
        model={"max_length": 64, "scratch": TINY_MODEL},
        train={"learning_rate": 0.003, "batch_size": 16, "epochs": 2},
        hpo={
            "num_samples": 2,
            "max_epochs": 2,
            "concurrency": 1,
            "asha": {"grace_period": 1, "reduction_factor": 2},
            "pbt": {"perturbation_interval": 1, "quantile_fraction": 0.5},
            # the comparison: asha and bohb (repeat 0 = their main studies), 2 HPO seeds each,
            # every best configuration re-trained with 2 training seeds
            "repeats": 2,
            "retrain_seeds": 2,
            "compare": {
                "families": ["original"],
                "train_variants": ["cased"],
                "algorithms": ["asha", "bohb"],
            },
        },
        baseline={"batch_sizes": [16, 32]},
        casing_seeds={"families": ["original"], "seeds": 2},
        objectives={
            "enabled": sprint,
            "family": "original",
            "train_variants": ["cased"],
            "algorithm": "asha",
            "objective": "worst",
        },
        sprint={
            "enabled": sprint,
            "family": "original",
            "variant": "cased",
            "algorithm": "asha",
            "data_fraction": 0.5,
            "num_samples": 2,
            "max_epochs": 1,
            "keep": 1,
        },
    )


RESULT_TABLES = ("dev-table", "test-table", "hparams-table", "batch-size-table", "figures")


def tables(readme: str) -> dict[str, str]:
    """The README's result tables: the sections that depend only on the seeds (the header names
    the date, the algorithm table and the findings include wall-clock times)."""
    sections = dict(re.findall(r"<!-- BEGIN (\S+) -->\n(.*?)<!-- END \1 -->", readme, re.S))
    return {name: sections[name] for name in RESULT_TABLES}


def all_sections(readme: str) -> dict[str, str]:
    return dict(re.findall(r"<!-- BEGIN (\S+) -->\n(.*?)<!-- END \1 -->", readme, re.S))


def table_rows(markdown: str) -> list[list[str]]:
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


@pytest.fixture(scope="module")
def snakemake_run(tmp_path_factory):
    root = make_copy(tmp_path_factory.mktemp("smk") / "project", e2e_params())
    proc = run(["snakemake", "--cores", "2"], root, timeout=1500)
    return root, proc


def test_snakemake_builds_everything(snakemake_run):
    root, proc = snakemake_run
    readme = (root / "README.md").read_text()
    sections = all_sections(readme)
    for name in ("dev-table", "test-table"):
        rows = table_rows(sections[name])
        assert len(rows) == 18
        header = [c.strip() for c in sections[name].splitlines()[0].strip("|").split("|")]
        assert header[3:] == VARIANT_COLUMNS
        for row in rows:
            values = [float(c.strip("*")) for c in row[3:]]
            assert len(values) == 7 and all(0.0 <= v <= 1.0 for v in values)
    assert len(table_rows(sections["hparams-table"])) == 18
    assert len(table_rows(sections["batch-size-table"])) == 2
    for png in ("anytime.png", "hparams.png", "heatmap_original.png", "heatmap_simple.png"):
        assert (root / "results/report" / png).stat().st_size > 1000
    check_comparison_and_sprint(root, sections["findings"])
    check_optuna_journal(root)
    check_exported_model(root)
    corpus = json.loads((root / "results/corpus/corpus.json").read_text())
    assert [corpus["splits"][s]["sentences"] for s in ("train", "dev", "test")] == [60, 30, 30]
    assert "| train" in sections["corpus"]
    # no Ray head was left behind, and Snakemake's HTML report holds the figures
    assert not (root / ".nerhpo-ray").exists()
    run(["snakemake", "--report", "report.html"], root)
    assert (root / "report.html").stat().st_size > 100_000
    # the report is idempotent: running it again changes nothing
    before = readme
    run(
        ["snakemake", "--cores", "1", "--forcerun", "report", "--", "results/report/tables.md"],
        root,
    )
    assert (root / "README.md").read_text() == before
    # where the run's time went: every stage's jobs, and the work measured inside them
    out = run(["python", "workflow/scripts/runtime.py", "--json"], root).stdout
    stages = {s["stage"]: s for s in json.loads(out)["stages"]}
    assert stages["hpo"]["jobs"] == 18 and stages["eval"]["jobs"] == 18
    for stage in ("hpo", "repeats", "retrain", "eval", "pretrain", "baseline"):
        assert 0 < stages[stage]["work_seconds"] < stages[stage]["job_seconds"], stages[stage]
    assert stages["variants"]["work_seconds"] == 0


def scheduled(root) -> dict[str, int]:
    """The jobs a Snakemake dry run would run now, per rule (empty: nothing to do)."""
    out = run(["snakemake", "-n", "--cores", "2"], root).stdout
    if "Job stats:" not in out:
        assert "Nothing to be done" in out, out[-2000:]
        return {}
    table = out.split("Job stats:", 1)[1].split("total", 1)[0].splitlines()[3:]
    return {name: int(count) for name, count in (line.split() for line in table if line.strip())}


def edit_params(root, edit) -> str:
    """Apply ``edit`` to the run's params (a function of the parsed YAML); return the old text."""
    path = root / "params.yaml"
    old = path.read_text()
    params = yaml.safe_load(old)
    edit(params)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return old


def saved_states_kept(root) -> list[str]:
    """The main studies whose saved Tune state the current params would resume."""
    from nerhpo.search.identity import saved_state_matches, study_fingerprint
    from nerhpo.search.study import make_study

    params = yaml.safe_load((root / "params.yaml").read_text())
    kept = []
    for stamp in sorted((root / "results/hpo").glob("*/*/*/study.fingerprint")):
        family, variant, algorithm = stamp.parent.relative_to(root / "results/hpo").parts
        study = make_study(
            params,
            family,
            variant,
            algorithm,
            root / "data/variants" / family / variant,
            root / "results/pretrained",
            stamp.parent,
        )
        if saved_state_matches(stamp, study, study_fingerprint(study)):
            kept.append(f"{family}/{variant}/{algorithm}")
    return kept


# the stages that collect the main studies (repeat 0 of a compared series is a main study)
COLLECTORS = {"repeats": 2, "retrain": 2, "findings": 1, "report": 1, "all": 1}


def test_a_finished_run_is_extended_not_restarted(snakemake_run):
    """After a finished run, adding an algorithm, a family or a training variant schedules only
    the new studies and the stages that collect results; resources only the report; one
    algorithm's own setting exactly its studies. Every unchanged study keeps its saved state."""
    root, _ = snakemake_run
    assert scheduled(root) == {}
    assert len(saved_states_kept(root)) == 18

    def add_algorithm(p):
        p["hpo"]["algorithms"].append("random")

    old = edit_params(root, add_algorithm)
    try:
        # the seed spread re-trains the best configuration over the algorithms
        assert scheduled(root) == {"hpo": 6, "evaluate": 6, "casing_seeds": 3, **COLLECTORS}
        assert len(saved_states_kept(root)) == 18
    finally:
        (root / "params.yaml").write_text(old)

    def add_family(p):
        p["tag_families"]["coarse"] = {"PERderiv": "PER", "LOCderiv": "LOC"}
        p["hpo"]["families"].append("coarse")

    old = edit_params(root, add_family)
    try:
        # the corpus report names the families' mappings of types the corpus lacks
        assert scheduled(root) == {
            "variant": 7,
            "corpus_report": 1,
            "hpo": 9,
            "evaluate": 9,
            **COLLECTORS,
        }
        assert len(saved_states_kept(root)) == 18
    finally:
        (root / "params.yaml").write_text(old)

    def add_variant(p):
        p["hpo"]["train_variants"].append("ne-lower")

    old = edit_params(root, add_variant)
    try:
        assert scheduled(root) == {"hpo": 6, "evaluate": 6, "casing_seeds": 1, **COLLECTORS}
    finally:
        (root / "params.yaml").write_text(old)

    def more_gpus(p):
        p["hpo"]["gpus_per_trial"] = 0.25
        p["hpo"]["cpus_per_trial"] = 2

    old = edit_params(root, more_gpus)
    try:
        assert scheduled(root) == {"report": 1, "all": 1}  # its header names the resources
        assert len(saved_states_kept(root)) == 18
    finally:
        (root / "params.yaml").write_text(old)

    def pbt_setting(p):
        p["hpo"]["pbt"]["quantile_fraction"] = 0.4

    old = edit_params(root, pbt_setting)
    try:
        assert scheduled(root) == {
            "hpo": 6,
            "evaluate": 6,
            "casing_seeds": 3,
            "findings": 1,
            "report": 1,
            "all": 1,
        }
        kept = saved_states_kept(root)
        assert len(kept) == 12 and not any(k.endswith("/pbt") for k in kept)
    finally:
        (root / "params.yaml").write_text(old)
    assert scheduled(root) == {}


def check_exported_model(root):
    """A study's model copied out with its card: plain transformers loads it, and the card holds
    the evaluation's F1 on every variant."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    card = (root / "results/hpo/original/cased/asha/model/README.md").read_text()
    assert "| HPO algorithm | asha |" in card and "Not in this copy" in card
    out = root / "exported"
    study = ["--family", "original", "--variant", "cased", "--algorithm", "asha"]
    run(["python", "workflow/scripts/export_model.py", *study, "--out", str(out)], root)
    model = AutoModelForTokenClassification.from_pretrained(out)
    AutoTokenizer.from_pretrained(out)
    assert set(model.config.id2label.values()) == set(json.loads((out / "labels.json").read_text()))
    scores = json.loads((root / "results/eval/original/cased/asha.json").read_text())["scores"]
    card = (out / "README.md").read_text()
    for variant in VARIANT_COLUMNS:
        dev, test = scores["dev"][variant]["f1"], scores["test"][variant]["f1"]
        assert f"| {variant} | {dev:.4f} | {test:.4f} |" in card
    again = run(
        ["python", "workflow/scripts/export_model.py", *study, "--out", str(out)], root, check=False
    )
    assert again.returncode == 1 and "exists and is not empty" in again.stderr


def check_optuna_journal(root):
    """Every study of the run is an Optuna study in the journal, trial for trial."""
    import optuna
    import pandas as pd
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    storage = JournalStorage(JournalFileBackend(str(root / "results/report/optuna.journal")))
    names = optuna.get_all_study_names(storage)
    assert len([n for n in names if n.startswith("hpo/")]) == 18
    assert {"repeats/original/cased/asha/r1", "sprint/cheap", "sprint/full"} <= set(names)
    for name in names:
        trials = pd.read_csv(root / "results" / name / "trials.csv", dtype={"trial_id": str})
        frozen = optuna.load_study(study_name=name, storage=storage).trials
        assert len(frozen) == len(trials)
        for row, trial in zip(trials.to_dict("records"), frozen):
            assert trial.user_attrs["trial_id"] == row["trial_id"]
            state = {"TERMINATED": "COMPLETE", "STOPPED": "PRUNED"}.get(row["status"], "FAIL")
            assert trial.state.name == state
            if state == "COMPLETE":
                assert trial.value == row["best_dev_f1"]
            assert trial.params["batch_size"] == row["batch_size"]
            if not name.endswith("pbt"):  # a PBT trial's epochs continue another's checkpoint
                assert len(trial.intermediate_values) == row["epochs"]
                assert max(trial.intermediate_values.values()) == row["best_dev_f1"]


def check_comparison_and_sprint(root, findings_section):
    """The repeat, re-seed and sprint stages ran and their numbers reached the Findings."""
    series = root / "results/repeats/original/cased"
    assert not (series / "asha/r0").exists()  # repeat 0 of asha is the main study
    for study, seed in (("asha/r1", 43), ("bohb/r1", 43)):
        best = json.loads((series / study / "best.json").read_text())
        assert best["seed"] == seed and 0.0 <= best["dev_f1"] <= 1.0
        assert json.loads((series / study / "cost.json").read_text())["cpu_seconds"] > 0
    for algorithm in ("asha", "bohb"):
        retrain = json.loads(
            (root / f"results/retrain/original/cased/{algorithm}.json").read_text()
        )
        assert retrain["seeds"] == [1042, 1043]
        assert [s["repeat"] for s in retrain["studies"]] == [0, 1]
        for study in retrain["studies"]:
            assert [r["seed"] for r in study["runs"]] == [1042, 1043]
            for r in study["runs"]:
                assert 0.0 <= r["dev_f1"] <= 1.0 and 0.0 <= r["test_f1"] <= 1.0
                assert r["dev_f1"] == max(r["dev_f1_per_epoch"])  # the best epoch, on dev
    comparison = json.loads((root / "results/findings/comparison.json").read_text())
    assert set(comparison["algorithms"]) == {"asha", "bohb"}
    for numbers in comparison["algorithms"].values():
        assert numbers["best_dev"]["n"] == 2 and numbers["retrain_dev"]["n"] == 4
    assert comparison["verdict"]["winner"] in ("asha", "bohb")
    space = json.loads((root / "results/sprint/space.json").read_text())
    assert set(space["search_space"]) == set(e2e_params()["hpo"]["search_space"])
    cheap = json.loads((root / "results/sprint/cheap/summary.json").read_text())
    assert cheap["trials"] == 2 and cheap["epochs"] <= 2
    rows = json.loads((root / "results/findings/sprint.json").read_text())["rows"]
    assert [r["round"] for r in rows][0] == "cheap round" and len(rows) == 4
    # the objective's study: scored on the worst variant, evaluated on all of them
    best = json.loads((root / "results/objective/cased/best.json").read_text())
    assert best["objective"] == "worst" and set(best["dev_f1_by_variant"]) == set(VARIANT_COLUMNS)
    assert best["dev_f1"] == min(best["dev_f1_by_variant"].values())
    evaluation = json.loads((root / "results/objective/cased/eval.json").read_text())
    assert set(evaluation["scores"]["dev"]) == set(VARIANT_COLUMNS)
    assert evaluation["scores"]["dev"]["cased"]["f1"] == best["dev_f1_by_variant"]["cased"]
    rows = json.loads((root / "results/findings/objective.json").read_text())["studies"]
    assert [r["other"]["objective"] for r in rows] == ["worst"]
    # each training variant's best configuration re-trained with 2 seeds, on every variant
    seeds = json.loads((root / "results/findings/casing_seeds.json").read_text())["rows"]
    assert [r["train_variant"] for r in seeds] == ["cased", "uncased", "uncased-cased-mix"]
    assert all(r["dev"]["uncased"]["n"] == 2 for r in seeds)
    retrained = json.loads((root / "results/casing_seeds/original/cased.json").read_text())
    assert retrained["seeds"] == [1042, 1043]
    assert set(retrained["runs"][0]["scores"]["test"]) == set(VARIANT_COLUMNS)
    for words in (
        "Which HPO method to trust",
        "Winner on the mean re-trained dev F1",
        "training-seed noise",
        "Progressive-fidelity sprint",
        "Casing robustness",
        "Which training variant is the most casing-robust?",
        "Robustness-aware objective",
        "Seed spread of the casing robustness",
    ):
        assert words in findings_section, words
    for png in ("compare_anytime.png", "compare_retrain.png", "casing.png"):
        assert (root / "results/findings" / png).stat().st_size > 1000


LOCAL_STATE = (
    "results/repeats",
    "results/sprint/cheap",
    "results/sprint/full",
    "results/objective",
)


def local_state(path: str) -> bool:
    """Outputs kept only locally (persist, no DVC cache): Ray Tune state and whole study folders."""
    return path.endswith(("/tune", "/study.fingerprint")) or path.startswith(LOCAL_STATE)


def test_dvc_repro_gives_the_same_tables(snakemake_run, tmp_path):
    smk_root, _ = snakemake_run
    root = make_copy(tmp_path / "project", e2e_params(sprint=False))
    # on a Ray head started beforehand, as the README suggests for DVC (DVC has no hook that
    # could start one); the DVC kill-and-resume test runs DVC's jobs on a local Ray each
    head = ["python", "workflow/scripts/ray_head.py"]
    run(head + ["start", "--cpus", "2", "--watch-pid", str(os.getpid())], root)
    session = Path((root / ".nerhpo-ray/temp_dir").read_text().strip()) / "session_latest"
    try:
        run(["dvc", "repro", "--quiet"], root, timeout=1500)
        # one driver log per job that joined it: at least the 12 non-PBT main studies (PBT
        # studies run on a Ray of their own)
        drivers = list((session / "logs").rglob("python-core-driver-*.log"))  # and old/
        assert len(drivers) >= 12, drivers
    finally:
        run(head + ["stop"], root)
    readme = (root / "README.md").read_text()
    assert tables(readme) == tables((smk_root / "README.md").read_text())
    findings = all_sections(readme)["findings"]
    assert "Winner on the mean re-trained dev F1" in findings
    assert "Progressive-fidelity sprint" not in findings  # sprint.enabled: false
    assert json.loads((root / "results/sprint/space.json").read_text()) == {"enabled": False}
    assert "Data and pipelines are up to date" in run(["dvc", "status"], root).stdout
    shown = run(["dvc", "metrics", "show", "--json"], root).stdout
    assert "results/eval/original/cased/asha.json" in shown
    plots = json.loads(run(["dvc", "plots", "show", "--json"], root).stdout)
    assert "results/report/anytime.png" in plots["data"]

    # a PBT-only change: only the PBT studies and what follows them are out of date
    params = (root / "params.yaml").read_text()
    (root / "params.yaml").write_text(
        params.replace("quantile_fraction: 0.5", "quantile_fraction: 0.4")
    )
    status = json.loads(run(["dvc", "status", "--json"], root).stdout)
    changed = set(status)
    assert changed, "dvc status saw no change"
    assert all("pbt" in s or s == "report" for s in changed), changed
    assert {s for s in changed if s.startswith("hpo@")} == {
        f"hpo@{f}-{v}-pbt"
        for f in ("original", "simple")
        for v in ("cased", "uncased", "uncased-cased-mix")
    }
    (root / "params.yaml").write_text(params)

    # adding an algorithm: its new studies, their evaluations and the stages that collect them
    edit_params(root, lambda p: p["hpo"]["algorithms"].append("random"))
    changed = set(json.loads(run(["dvc", "status", "--json"], root).stdout))
    studies = [f"{f}-{v}-random" for f in ("original", "simple") for v in VARIANT_COLUMNS[:3]]
    collectors = {
        f"{stage}@original-cased-{a}" for stage in ("repeats", "retrain") for a in ("asha", "bohb")
    }
    # the seed spread re-trains the best configuration over the algorithms
    seed_spread = {f"casing_seeds@original-{v}" for v in VARIANT_COLUMNS[:3]}
    assert changed == {
        *(f"hpo@{s}" for s in studies),
        *(f"evaluate@{s}" for s in studies),
        *collectors,
        *seed_spread,
        "findings",
        "report",
    }, changed
    (root / "params.yaml").write_text(params)
    assert "Data and pipelines are up to date" in run(["dvc", "status"], root).stdout

    # push to a local remote, pull into a fresh clone: the model reloads and scores the same
    remote = tmp_path / "remote"
    run(["dvc", "remote", "add", "-f", "-d", "local", str(remote)], root)
    run(["git", "add", "-A"], root)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "results"], root)
    run(["dvc", "push", "--quiet"], root)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(root), str(clone)], tmp_path)
    if not (clone / "src").exists():  # the copy's src is a symlink; git keeps it as one
        (clone / "src").symlink_to((root / "src").resolve())
    run(["dvc", "pull", "--quiet"], clone)
    # everything is back but the Ray Tune state, which stays local (persist, no cache); the
    # findings and report read its progress files (anytime curves), so they see it missing
    # (as do the repeated and sprint studies, whose folders hold their Tune state)
    status = json.loads(run(["dvc", "status", "--json"], clone).stdout)
    for stage, changes in status.items():
        for change in changes:
            assert isinstance(change, dict), (stage, changes)
            deps = set(change.get("changed deps", {}))
            outs = set(change.get("changed outs", {}))
            assert deps | outs, (stage, changes)
            # results/hpo (and a family/variant folder of it) holds the studies' Tune state
            studies = ("results/hpo", "results/hpo/")
            assert all(d.startswith(studies) or local_state(d) for d in deps), (stage, changes)
            assert all(local_state(o) for o in outs), (stage, changes)
    study = "results/hpo/original/cased/asha"
    assert (clone / study / "model/model.safetensors").read_bytes() == (
        root / study / "model/model.safetensors"
    ).read_bytes()
    out = clone / "rescored.json"
    run(
        [
            "python",
            "workflow/scripts/evaluate.py",
            "--family",
            "original",
            "--variant",
            "cased",
            "--algorithm",
            "asha",
            "--out",
            str(out),
        ],
        clone,
    )
    original = json.loads((root / "results/eval/original/cased/asha.json").read_text())
    rescored = json.loads(out.read_text())
    assert rescored["scores"] == original["scores"] or all(
        rescored["scores"][s][v]["f1"] == pytest.approx(original["scores"][s][v]["f1"], abs=1e-9)
        for s in ("dev", "test")
        for v in VARIANT_COLUMNS
    )
    subprocess.run(["git", "status"], cwd=clone, capture_output=True)
