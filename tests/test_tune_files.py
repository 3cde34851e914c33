"""What Ray Tune leaves in a trial folder, read by the study's end-of-run steps: a trial killed
before its first report (no, an empty or a cut-off progress.csv) must never crash them."""

from nerhpo.search.runner import prune_checkpoints
from nerhpo.search.tune_files import read_progress


def _trial(tune_dir, name, progress: str | None, checkpoints: int):
    trial = tune_dir / name
    trial.mkdir(parents=True)
    if progress is not None:
        (trial / "progress.csv").write_text(progress)
    for i in range(checkpoints):
        (trial / f"checkpoint_{i:06d}").mkdir()
        (trial / f"checkpoint_{i:06d}" / "model.safetensors").write_bytes(b"x" * 100)
    return trial


def test_read_progress_gives_rows_or_an_empty_frame(tmp_path):
    good = _trial(tmp_path, "good", "training_iteration,dev_f1\n1,0.5\n2,0.7\n", 0)
    assert read_progress(good)["dev_f1"].tolist() == [0.5, 0.7]
    assert read_progress(_trial(tmp_path, "empty", "", 0)).empty
    assert read_progress(_trial(tmp_path, "none", None, 0)).empty
    assert read_progress(_trial(tmp_path, "binary", '\xff\xfe,\x00\n"', 0)).empty


def test_pruning_keeps_the_best_and_the_latest_and_survives_empty_progress(tmp_path):
    progress = (
        "training_iteration,dev_f1,checkpoint_dir_name\n"
        "1,0.2,checkpoint_000000\n2,0.9,checkpoint_000001\n3,0.4,checkpoint_000002\n"
        "4,0.5,checkpoint_000003\n"
    )
    trial = _trial(tmp_path, "trial_a", progress, 4)
    killed = _trial(tmp_path, "trial_b", "", 3)  # killed before its first report
    freed = prune_checkpoints(tmp_path)
    assert sorted(p.name for p in trial.glob("checkpoint_*")) == [
        "checkpoint_000001",  # best dev F1
        "checkpoint_000003",  # latest (resume)
    ]
    assert freed == 200
    assert len(list(killed.glob("checkpoint_*"))) == 3  # nothing known: nothing deleted
