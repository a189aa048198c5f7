"""SynthRef: the embedded referring-segmentation benchmark (docs/design.md §4).

Each scene is a cluttered background (a procedural texture or a crop of one of
scikit-image's CC0 photos) with 2–8 coloured, textured, rotated shapes that may partly hide
each other. Each scene carries 1–3 expressions; every expression is generated from the scene's
symbolic description and kept only when it picks out exactly one object:

* ``attribute``  — "the small green star", "striped box", "the disc that is red"
* ``relation``   — "the triangle left of the blue square"
* ``ordinal``    — ordinal/extreme: "the leftmost ring", "the second star from the top",
  "the largest heart"
* ``absolute``   — "the circle at the bottom right", "the star on the left"

Semantics (the test re-checks them on the written files, independently of this package):
colour/texture/shape words filter the objects; "small"/"big" in a noun phrase pick the
smallest/largest of the objects matching the rest; relations compare visible centroids
("A left of B": A.cx < B.cx); extremes and ordinals sort the matching objects by centroid or
area; absolute positions are the thirds of the image. The generator additionally demands
margins (positions ≥ 5 % of the image apart, areas ≥ 1.5× apart) so that no expression
hinges on a few pixels.

Ground truth is the *visible* mask (after occlusion). Every object keeps ≥ 50 % of itself
visible, and only objects with ≥ 75 % visible are referents.

Written in the refer format (``refs(synth).json``, ``instances.json`` with RLE masks and the
symbolic attributes of every object, ``images/*.png``), so :func:`tvnet.data.refer.open_refer`
reads it unchanged. Deterministic: each scene draws from its own
``numpy.random.default_rng([seed, split, index])``, so one seed gives identical bytes.

Modules, data flowing down: :mod:`~tvnet.data.synthref.vocabulary` (shapes, colours,
textures and their words) → :mod:`~tvnet.data.synthref.render` (drawing, occlusion, masks) →
:mod:`~tvnet.data.synthref.grammar` (what expressions mean and how they are worded) →
:mod:`~tvnet.data.synthref.scene` (one scene with its expressions) →
:mod:`~tvnet.data.synthref.write` (the refer-format files) and
:mod:`~tvnet.data.synthref.stats` (the data card).
"""

from tvnet.data.synthref.grammar import (
    AREA_RATIO,
    KINDS,
    POS_MARGIN,
    Desc,
    Expression,
    describe,
    noun_phrase,
    resolve,
)
from tvnet.data.synthref.render import (
    MIN_REFERENT_VISIBLE,
    MIN_VISIBLE,
    PHOTOS,
    SynthObject,
    render_scene,
)
from tvnet.data.synthref.scene import SPLITS, Scene, make_scene
from tvnet.data.synthref.stats import format_stats, synth_stats
from tvnet.data.synthref.vocabulary import (
    COLOUR_WORDS,
    COLOURS,
    GENERIC_NOUNS,
    LOCATION_WORDS,
    SHAPE_WORDS,
    SHAPES,
    SIZE_ADJ,
    TEXTURE_ADJ,
    TEXTURE_PP,
    TEXTURES,
)
from tvnet.data.synthref.write import FORMAT_VERSION, generate

__all__ = [
    "AREA_RATIO",
    "COLOURS",
    "COLOUR_WORDS",
    "FORMAT_VERSION",
    "GENERIC_NOUNS",
    "KINDS",
    "LOCATION_WORDS",
    "MIN_REFERENT_VISIBLE",
    "MIN_VISIBLE",
    "PHOTOS",
    "POS_MARGIN",
    "SHAPES",
    "SHAPE_WORDS",
    "SIZE_ADJ",
    "SPLITS",
    "TEXTURES",
    "TEXTURE_ADJ",
    "TEXTURE_PP",
    "Desc",
    "Expression",
    "Scene",
    "SynthObject",
    "describe",
    "format_stats",
    "generate",
    "make_scene",
    "noun_phrase",
    "render_scene",
    "resolve",
    "synth_stats",
]
