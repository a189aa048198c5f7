"""The expression for the mirror image: horizontal words swapped, nothing else."""

import numpy as np
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
        # closed compounds, which the model reads through the word piece "left"
        ("the lefthand star on the leftside", "the righthand star on the rightside"),
        (
            "the star moving leftward, the leftest one",
            "the star moving rightward, the rightest one",
        ),
        ("Leftwards", "Rightwards"),
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
    # a map at a quarter of the input size (a backbone level of an 8×8 input): a content
    # width of 0.75 cells keeps its one cell; 1.25 cells: cell 0 (centre 0.5) takes the value
    # at the mirrored centre 0.75 (a quarter of the way to cell 1), cell 1 the edge cell's
    m = torch.arange(2 * 2 * 2, dtype=torch.float32).view(2, 1, 2, 2)
    z = flip_content(m, [(8, 3), (8, 5)], size=8)
    assert torch.equal(z[0], m[0])
    assert z[1, 0].tolist() == [[4.25, 4.0], [6.25, 6.0]]
    # a box 4 high covers the first of the two rows only
    assert flip_content(m, [(4, 5), (8, 8)], size=8)[0, 0].tolist() == [[0.25, 0.0], [2.0, 3.0]]
    # numpy arrays alike (the training loader flips cached fp16 rows in numpy)
    assert np.array_equal(
        flip_content(m.numpy().astype(np.float16), [(8, 3), (8, 5)], 8), z.numpy()
    )


@pytest.mark.parametrize("cells", [80, 40, 20])
@pytest.mark.parametrize("width", [320, 240, 250, 253])
def test_a_flipped_map_stays_aligned_with_the_flipped_image(cells, width):
    """A map whose cells hold the pixel column of their centre (a ramp) reads, after the flip,
    the mirrored column ``width − x`` at every cell whose mirrored centre lies inside the
    content: the features stay aligned with the mask flipped at pixel level, whether or not
    the content is a whole number of cells wide (a cell-wise reversal would be off by up to
    half a cell there)."""
    import torch

    from tvnet.data.mirror import flip_content

    size = 320
    centre = (torch.arange(cells) + 0.5) * size / cells
    x = centre.expand(1, 2, 3, cells).clone()
    y = flip_content(x, [(size, width)], size)[0, 0, 0]
    inside = centre <= width - size / cells / 2  # the mirrored centre is ≥ the first centre
    assert torch.allclose(y[inside], width - centre[inside])
    covered = -(-width * cells // size)
    assert torch.equal(y[covered:], centre[covered:])  # the padding's cells as they were
