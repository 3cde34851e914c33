"""The data stages end to end: Snakemake and DVC build identical files; scripts fail cleanly."""

import subprocess
import sys

import pytest
from project_copy import ROOT, make_copy, run, tiny_params, tree_bytes

pytestmark = pytest.mark.slow


def test_snakemake_and_dvc_build_identical_data(tmp_path):
    params = tiny_params()
    smk = make_copy(tmp_path / "smk", params)
    run(
        ["snakemake", "--cores", "2", "data/variants/simple/ne-lower-cased-both/test.tsv"]
        + [
            f"data/variants/{f}/{v}/{s}.tsv"
            for f in params["tag_families"]
            for v in params["variants"]["names"]
            for s in ("train", "dev", "test")
        ],
        smk,
    )
    dvc = make_copy(tmp_path / "dvc", params)
    run(["dvc", "repro", "--quiet", "corpus", "variant"], dvc)
    a, b = tree_bytes(smk, "data"), tree_bytes(dvc, "data")
    assert len(a) == 3 + 2 * 7 * 3
    assert a == b
    # the doubled variants really double, and logs exist per job
    assert (smk / "logs" / "variants" / "original" / "cased.log").exists()
    train = (smk / "data/variants/original/uncased-cased-both/train.tsv").read_text()
    assert train.count("\n\n") + 1 == 2 * 60
    # a second run does nothing: outputs are complete and up to date
    again = run(["snakemake", "--cores", "2", "-n", "--quiet"], smk)
    assert "Nothing to be done" in again.stdout + again.stderr or "variant" not in again.stdout
    assert (
        "Data and pipelines are up to date"
        in run(["dvc", "status", "corpus", "variant"], dvc).stdout
    )


def script(name):
    return [sys.executable, str(ROOT / "workflow" / "scripts" / name)]


SCRIPTS = sorted(p.name for p in (ROOT / "workflow" / "scripts").glob("*.py"))


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_has_help(name):
    out = subprocess.run(script(name) + ["--help"], capture_output=True, text=True, check=True)
    assert "usage" in out.stdout and "-h, --help" in out.stdout


def test_bad_user_corpus_gives_one_line_error_and_no_output(tmp_path):
    import yaml

    good = "1\tBerlin\tB-LOC\tO\n2\tist\tO\tO\n"
    (tmp_path / "train.tsv").write_text(good)
    (tmp_path / "dev.tsv").write_text(good)
    (tmp_path / "test.tsv").write_text(good + "\n1\tKöln\tB-LOC\n")
    files = {s: str(tmp_path / f"{s}.tsv") for s in ("train", "dev", "test")}
    params = tiny_params(corpus={"source": "files", "files": files})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    out = tmp_path / "out"
    proc = subprocess.run(
        script("make_corpus.py") + ["--params", str(tmp_path / "params.yaml"), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: {tmp_path}/test.tsv:4: expected 4 tab-separated columns "
        "(position, token, outer tag, nested tag), found 3"
    )
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_bad_params_name_the_key(tmp_path):
    import yaml

    params = tiny_params(corpus={"demo": {"train_sentences": "many"}})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    proc = subprocess.run(
        script("make_corpus.py") + ["--params", str(tmp_path / "params.yaml"), "--out", "x"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert "corpus.demo.train_sentences: expected integer, got str 'many'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x").exists()
