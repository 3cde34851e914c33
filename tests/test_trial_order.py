"""The order in which Tune created a trial, read from its directory name: the tie-break for the
best trial and the sort order of trials.csv (a searcher's trial ids are random per run)."""

import pytest

from nerhpo.search.tune_files import trial_number

CONFIG = "attention_dropout=0.0749,batch_size=32,learning_rate=0.0008_2026-11-30_02-05-22"


@pytest.mark.parametrize(
    "name, number",
    [
        # a search algorithm's trial (BOHB, TPE, GP): a random 8-hex id, then the number
        (f"trainable_80fb544e_1_{CONFIG}", 1),
        (f"trainable_d36c6fe7_12_{CONFIG}", 12),
        (f"trainable_12345678_3_{CONFIG}", 3),  # an id of digits only
        # the basic generator (random search, ASHA, PBT): run id, 5-digit counter, number
        (f"trainable_7f854_00001_1_{CONFIG}", 1),
        (f"trainable_7f854_00010_10_{CONFIG}", 10),
    ],
)
def test_trial_number_from_the_directory_name(name, number):
    assert trial_number(f"/results/hpo/original/cased/bohb/tune/{name}") == number


def test_an_unknown_name_sorts_first():
    assert trial_number("/somewhere/else") == -1
    assert trial_number(None) == -1
