"""tvnet/inference/checks.py: which warnings an answer gets, from which measurement."""

import pytest

from tvnet.eval.calibration import Calibration
from tvnet.inference.checks import (
    LOW_CONFIDENCE,
    NEAR_EMPTY,
    answer_warnings,
    tiny_side,
    unseen_words,
)

CAL = Calibration(
    "platt",
    {"a": 1.0, "b": 0.0},
    image_similarity={"q01": 0.5, "q05": 0.6, "median": 0.75},
    mask_area={"q01": 0.008, "min": 0.006},
)
FINE = dict(
    image_shape=(300, 400),
    input_size=320,
    n_words=3,
    unknown_words=[],
    mask_fraction=0.05,
    confidence=0.9,
    image_similarity=0.7,
    calibration=CAL,
)


def test_a_familiar_readable_answer_gets_no_warning():
    assert answer_warnings(**FINE) == []
    # exactly at each floor is still fine: the warnings are strict inequalities
    edge = {**FINE, "image_similarity": 0.5, "mask_fraction": 0.008, "confidence": LOW_CONFIDENCE}
    assert answer_warnings(**edge) == []
    assert answer_warnings(**{**FINE, "image_shape": (tiny_side(320), 10)}) == []
    assert answer_warnings(**{**FINE, "image_shape": (200, 1600)}) == []  # 8:1, 40 px: the edge


def test_each_measurement_below_its_floor_gives_its_sentence():
    cases = [
        ({"image_similarity": 0.49}, "unlike the images the model was trained on"),
        ({"unknown_words": ["zorblax"]}, "does not know the word “zorblax”"),
        ({"unknown_words": ["le", "cercle", "rouge"]}, "knows none of the words"),
        ({"unseen_words": ["crimson"]}, "never met the word “crimson” in training"),
        ({"unseen_words": ["le", "cercle", "rouge"]}, "None of these words occurred"),
        (
            {"left_out_words": ["find"]},
            "never met the word “find” and read the expression without it",
        ),
        ({"generic_words": ["gizmo"]}, "never met the noun “gizmo” and read it as any object"),
        ({"generic_words": ["gizmo", "cat"]}, "read them as any object"),
        ({"unread": "of the big square"}, "it stopped before “of the big square”, so"),
        ({"unread": "1 2 3 4 5 6 7"}, "stopped before “1 2 3 4 5 6 …”"),
        ({"image_shape": (8, 8)}, "tiny (8×8 pixels)"),
        (
            {"image_shape": (100, 1600)},
            "a narrow strip (1600×100 pixels): the model sees its short side as 20 pixels",
        ),
        ({"image_shape": (2000, 240)}, "sees its short side as 38 pixels"),
        ({"mask_fraction": 0.0}, "The mask is empty"),
        ({"mask_fraction": 0.001}, "almost empty (0.10% of the image"),
        ({"confidence": 0.3}, "only a 30% chance"),
        ({"chosen_neighbour": True}, "The neighbour was chosen, not retrieved"),
    ]
    for change, words in cases:
        got = answer_warnings(**{**FINE, **change})
        assert len(got) == 1 and words in got[0], (change, got)
    two = answer_warnings(**{**FINE, "unknown_words": ["le", "rouge"]})
    assert "words “le” and “rouge”" in two[0]  # two of the three words unknown


def test_most_important_first_and_fallbacks_without_a_calibration():
    everything = {
        **FINE,
        "image_similarity": 0.1,
        "unknown_words": ["le", "cercle", "rouge"],
        "image_shape": (8, 8),
        "mask_fraction": 0.0001,
        "confidence": 0.05,
    }
    got = answer_warnings(**everything)
    order = ["looks unlike", "none of the words", "tiny", "almost empty", "unsure"]
    assert len(got) == 5 and all(w in g for w, g in zip(order, got))
    # no calibration: no familiarity floor, a fixed near-empty floor, no confidence
    bare = {**everything, "calibration": None, "confidence": None}
    got = answer_warnings(**bare)
    assert [w for w in order if any(w in g for g in got)] == order[1:4]
    assert answer_warnings(**{**bare, "mask_fraction": NEAR_EMPTY}) == got[:2]


@pytest.mark.parametrize("size", [64, 320, 416])
def test_tiny_means_enlarged_more_than_four_times(size):
    assert tiny_side(size) == size // 4


def test_unseen_words_are_the_expression_words_outside_training():
    known = {"the", "red", "circle", "left", "of"}
    assert unseen_words("The crimson circle, left of the CAT.", known, []) == ["crimson", "cat"]
    assert unseen_words("the red circle", known, []) == []
    # a word already read as a blank gets that warning, not this one
    assert unseen_words("the crimson Cat", known, ["Cat"]) == ["crimson"]
    assert unseen_words("anything at all", None, []) == []  # no record: not checked
    assert unseen_words("the circle's left", known, []) == []  # no warning about "s"
    # other one-character words are words: a CJK noun, a digit
    assert unseen_words("the red 星 left of 2", known, []) == ["星", "2"]


def test_a_confidence_whose_familiarity_check_could_not_run_is_not_backed():
    """With a calibration (a confidence to back) but no familiarity check, the answer says so
    (and so gets no ✔); without one there is no confidence and nothing to say."""
    no_pool = answer_warnings(**{**FINE, "image_similarity": None})
    assert len(no_pool) == 1 and "could not be checked (no pool of training images" in no_pool[0]
    blind = Calibration("platt", {"a": 1.0, "b": 0.0}, mask_area={"q01": 0.008, "min": 0.006})
    got = answer_warnings(**{**FINE, "calibration": blind})
    assert len(got) == 1 and "records no similarities of validation images" in got[0]
    bare = {**FINE, "calibration": None, "confidence": None, "image_similarity": None}
    assert answer_warnings(**bare) == []
    assert answer_warnings(**bare, chosen_neighbour=True) == []  # no confidence to withhold
