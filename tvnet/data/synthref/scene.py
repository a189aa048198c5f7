"""One SynthRef scene: the drawing plus its 1–3 expressions, a pure function of
(seed, split, index) (docs/design.md §4).

Each scene draws from its own ``numpy.random.default_rng([seed, split, index])``, so one seed
gives the same scenes in any order and in any number of worker processes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from tvnet.data.synthref.grammar import KIND_P, KINDS, Expression, choose, describe
from tvnet.data.synthref.render import SynthObject, render_scene

SPLITS = ("train", "val", "test")


@dataclass
class Scene:
    """A drawn scene, its objects (back to front) and its expressions (grouped by referent)."""

    image: np.ndarray  # H×W×3 uint8
    objects: list[SynthObject]
    expressions: list[Expression]
    background: str


def make_scene(seed: int, split: str, index: int) -> Scene:
    """Scene ``index`` of ``split``: a pure function of (seed, split, index)."""
    rng = np.random.default_rng([int(seed), SPLITS.index(split), int(index)])
    image, objs, bg = render_scene(rng)
    h, w = image.shape[:2]
    n_expr = int(rng.choice([1, 2, 3], p=[0.3, 0.4, 0.3]))
    dup = Counter(o.shape for o in objs)
    referable = [i for i, o in enumerate(objs) if o.referable]
    exprs: list[Expression] = []
    tried: list[int] = []
    for e in range(n_expr):
        reuse = [x.obj for x in exprs]
        cands = [i for i in referable if i not in tried]
        if e and reuse and rng.random() < 0.35:
            order = [choose(rng, reuse)]
        else:
            order = []
            if cands:
                # favour referents with a same-category distractor
                wts = np.array([3.0 if dup[objs[i].shape] > 1 else 1.0 for i in cands])
                order = [
                    cands[int(i)]
                    for i in rng.choice(
                        len(cands), size=len(cands), replace=False, p=wts / wts.sum()
                    )
                ]
        for r in order:
            kinds = [
                KINDS[int(k)]
                for k in rng.choice(len(KINDS), size=len(KINDS), replace=False, p=KIND_P)
            ]
            x = describe(rng, objs, r, w, h, kinds)
            if x is not None and all(
                x.raw.lower().rstrip(".") != y.raw.lower().rstrip(".") for y in exprs
            ):
                exprs.append(x)
                break
            tried.append(r)
    # group by referent so each ref's sentences are consecutive (first-mention order)
    first = {}
    for x in exprs:
        first.setdefault(x.obj, len(first))
    exprs.sort(key=lambda x: first[x.obj])
    return Scene(image=image, objects=objs, expressions=exprs, background=bg)
