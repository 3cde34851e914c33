"""The Optuna journal: a study folder's trials, states, per-epoch values and PBT's values outside
the search space, as optuna loads them back. (The end-to-end run checks every study of a real
run against its trials.csv: tests/test_pipeline_e2e.py.)"""

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from nerhpo.analysis.optuna_export import ExportError, export_journal

SPACE = {
    "learning_rate": {"type": "loguniform", "low": 0.001, "high": 0.01},
    "batch_size": {"type": "choice", "values": [8, 16]},
    "epochs_unused": {"type": "int", "low": 1, "high": 3},
}
TRIALS = """trial,trial_id,status,epochs,best_dev_f1,learning_rate,batch_size,error
0,4e139717,TERMINATED,2,0.8,0.002,16,
1,abc00001,STOPPED,1,0.3,0.012,8,
2,abc00002,ERROR,0,,0.005,32,boom
"""


def progress(trial_id: str, scores: list[float]) -> str:
    rows = [f"{s},{i},{trial_id}" for i, s in enumerate(scores, start=1)]
    return "\n".join(["dev_f1,training_iteration,trial_id", *rows]) + "\n"


def study(root, name):
    folder = root / name
    (folder / "tune/trainable_4e139717_0_x").mkdir(parents=True)
    (folder / "tune/trainable_abc00001_1_x").mkdir(parents=True)
    (folder / "trials.csv").write_text(TRIALS)
    (folder / "tune/trainable_4e139717_0_x/progress.csv").write_text(
        progress("4e139717", [0.5, 0.8])
    )
    (folder / "tune/trainable_abc00001_1_x/progress.csv").write_text(progress("abc00001", [0.3]))


def test_a_study_folder_becomes_an_optuna_study(tmp_path):
    results = tmp_path / "results"
    study(results, "hpo/original/cased/pbt")
    study(results, "sprint/cheap")
    journal = tmp_path / "out" / "optuna.journal"
    names = export_journal(results, SPACE, journal)
    assert names == ["hpo/original/cased/pbt", "sprint/cheap"]
    assert [p.name for p in journal.parent.iterdir()] == ["optuna.journal"]  # nothing half-built
    storage = JournalStorage(JournalFileBackend(str(journal)))
    assert optuna.get_all_study_names(storage) == names
    trials = optuna.load_study(study_name=names[0], storage=storage).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "PRUNED", "FAIL"]
    done, stopped, failed = trials
    assert done.value == 0.8 and done.intermediate_values == {1: 0.5, 2: 0.8}
    assert done.user_attrs["trial_id"] == "4e139717"  # not the float 4e139717
    assert done.params == {"learning_rate": 0.002, "batch_size": 16}
    # PBT went past the space's high (0.012 > 0.01) and a narrowed space's batch size 32
    assert stopped.params["learning_rate"] == 0.012 and stopped.intermediate_values == {1: 0.3}
    assert failed.params["batch_size"] == 32 and failed.value is None
    assert stopped.distributions["learning_rate"].high == 0.012
    assert stopped.distributions["learning_rate"].log


def test_a_second_export_replaces_the_journal(tmp_path):
    results = tmp_path / "results"
    study(results, "hpo/a/b/asha")
    journal = tmp_path / "optuna.journal"
    export_journal(results, SPACE, journal)
    first = journal.read_bytes()
    export_journal(results, SPACE, journal)
    storage = JournalStorage(JournalFileBackend(str(journal)))
    assert optuna.get_all_study_names(storage) == ["hpo/a/b/asha"]
    assert len(journal.read_bytes()) == len(first)


def test_no_study_is_one_clear_error(tmp_path):
    with pytest.raises(ExportError, match=r"no study folder \(trials.csv\) under hpo"):
        export_journal(tmp_path, SPACE, tmp_path / "optuna.journal")
    assert not (tmp_path / "optuna.journal").exists()
