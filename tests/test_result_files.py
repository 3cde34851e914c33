"""One reader for the pipeline's result files (nerhpo.core.result_files): a missing or unreadable file
ends each combining stage with one line naming it, in that stage's own error class."""

import pytest

from nerhpo.analysis.compare import CompareError
from nerhpo.analysis.findings import FindingsError, load_best
from nerhpo.analysis.report import ReportError
from nerhpo.analysis.sprint import round_row
from nerhpo.core.result_files import ResultFileError, read_csv, read_json


def test_readers_return_the_content(tmp_path):
    (tmp_path / "a.json").write_text('{"dev_f1": 0.5}')
    (tmp_path / "t.csv").write_text("trial_id,best_dev_f1\n007,0.4\n")
    assert read_json(tmp_path / "a.json") == {"dev_f1": 0.5}
    frame = read_csv(tmp_path / "t.csv", dtype={"trial_id": str})
    assert frame["trial_id"].tolist() == ["007"] and frame["best_dev_f1"].tolist() == [0.4]


@pytest.mark.parametrize("error", [ResultFileError, ReportError, FindingsError, CompareError])
def test_missing_and_broken_files_raise_the_callers_error_naming_the_file(tmp_path, error):
    bad_json, bad_csv = tmp_path / "best.json", tmp_path / "trials.csv"
    bad_json.write_text('{"dev_f1": ')
    bad_csv.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(error, match=r"missing input file .*gone\.json"):
        read_json(tmp_path / "gone.json", error)
    with pytest.raises(error, match=r"best\.json: not valid JSON \(") as info:
        read_json(bad_json, error)
    assert "\n" not in str(info.value)
    with pytest.raises(error, match=r"trials\.csv: not a readable CSV \("):
        read_csv(bad_csv, error)
    bad_csv.write_text("")
    with pytest.raises(error, match=r"trials\.csv: not a readable CSV \("):
        read_csv(bad_csv, error)


def test_stages_report_broken_results_in_their_own_error(tmp_path):
    study = tmp_path / "hpo/original/cased/asha"
    study.mkdir(parents=True)
    (study / "best.json").write_text("not json")
    with pytest.raises(FindingsError, match="best.json: not valid JSON"):
        load_best(tmp_path, ["original"], ["cased"], ["asha"])
    # the sprint's table used to let pandas' own error through for a broken trials.csv
    (study / "summary.json").write_text('{"wall_seconds": 1}')
    (study / "trials.csv").write_text("")
    with pytest.raises(CompareError, match="trials.csv: not a readable CSV"):
        round_row("full round", study)
