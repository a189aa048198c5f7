"""The expression for the mirror image: horizontal words swapped, nothing else."""

import pytest

from tvnet.data.mirror import mirrored


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("the star left of the leftmost circle", "the star right of the rightmost circle"),
        ("Left red box", "Right red box"),
        ("the RIGHT one, right?", "the LEFT one, left?"),
        ("the second star from the left", "the second star from the right"),
        ("left-most square", "right-most square"),  # a hyphen separates words
        ("the leftover bright circle", "the leftover bright circle"),  # words of their own
        ("the big blue square on top", "the big blue square on top"),
    ],
)
def test_mirrored_swaps_the_horizontal_words(text, want):
    assert mirrored(text) == want
    assert mirrored(want) == text  # its own inverse
