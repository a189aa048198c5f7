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


def test_flip_content_flips_each_images_content_and_keeps_its_padding():
    import torch

    from tvnet.data.mirror import flip_content

    x = torch.arange(2 * 8 * 8, dtype=torch.float32).view(2, 1, 8, 8)
    # image 0: a tall image, content 8 high and 3 wide; image 1: a wide one, 5 high and 8 wide
    y = flip_content(x, [(8, 3), (5, 8)])
    assert y[0, 0, :, :3].tolist() == x[0, 0, :, [2, 1, 0]].tolist()
    assert torch.equal(y[0, 0, :, 3:], x[0, 0, :, 3:])  # the padding stays on the right
    assert torch.equal(y[1, 0, :5], x[1, 0, :5].flip(-1))
    assert torch.equal(y[1, 0, 5:], x[1, 0, 5:])  # and below
    assert torch.equal(flip_content(y, [(8, 3), (5, 8)]), x)  # its own inverse
    # a map at a quarter of the input size (a backbone level of an 8×8 input): a 3-wide
    # content box covers the 1 cell of 2 that holds any of it, a 5-wide one both
    m = torch.arange(2 * 2 * 2, dtype=torch.float32).view(2, 1, 2, 2)
    z = flip_content(m, [(8, 3), (8, 5)], size=8)
    assert torch.equal(z[0], m[0])  # a one-cell-wide flip changes nothing
    assert torch.equal(z[1], m[1].flip(-1))
    assert flip_content(m, [(4, 5), (8, 8)], size=8)[0, 0].tolist() == [[1.0, 0.0], [2.0, 3.0]]
