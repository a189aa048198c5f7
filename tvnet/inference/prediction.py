"""What the Predictor returns (docs/design.md §7): :class:`Prediction`, one answer with the
maps that explain it and how far to trust it."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from tvnet.config import MASK_THRESHOLD
from tvnet.data.transforms import Letterbox
from tvnet.retrieval.retriever import Neighbour

CONFIDENT = 0.8  # Prediction.confident needs at least this confidence (and no warning)


def resize_map(m: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A float H×W map at ``shape`` = (H, W), bilinear (PIL): how an answer's maps follow it to
    another size (:meth:`Prediction.resized`)."""
    from PIL import Image

    h, w = int(shape[0]), int(shape[1])
    return np.array(Image.fromarray(m).resize((w, h), Image.BILINEAR))


@dataclass
class Prediction:
    mask: np.ndarray  # H×W bool, original size
    prob: np.ndarray  # H×W float32, original size
    letterbox: Letterbox  # geometry of the query image on the S×S input
    grid: int  # h = w of the low-resolution grid
    attention: list[np.ndarray] = field(default_factory=list)  # A_3..A_5: hw×k², own grid
    gates: list[np.ndarray] = field(default_factory=list)  # enrichment gates, channel mean
    a2: np.ndarray | None = None  # 2h×2w on the S×S input
    neighbour: Neighbour | None = None
    neighbour_letterbox: Letterbox | None = None
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per stage
    unknown_words: list[str] = field(default_factory=list)
    # words read (word pieces) but never met in its training expressions: untested wording
    unseen_words: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # those of the notes that reading the image made (a huge upload downscaled): the image's,
    # whatever the expression
    image_notes: list[str] = field(default_factory=list)
    # what the model read: the expression with words it never saw rewritten by WordNet
    # (tvnet/data/lexicon.py), and those (written, read) pairs, read "" for a word left out
    # as naming nothing ("find", "please"); "" when not recorded
    expression: str = ""
    rewrites: list[tuple[str, str]] = field(default_factory=list)
    variant: str = ""
    work_shape: tuple[int, int] | None = None  # H×W the model read (smaller if downscaled)
    # prob and mask averaged with the mirror image's answer (tvnet/inference/mirror.py)
    mirror: bool = False
    threshold: float = MASK_THRESHOLD  # mask = prob ≥ threshold
    # how far to trust it (docs/design.md §7, "Confidence and warnings")
    score: float = 0.0  # raw quality score: SAM's stability score of prob (eval.calibration)
    confidence: float | None = None  # calibrated P(IoU ≥ 0.5); None without a calibration
    warnings: list[str] = field(default_factory=list)  # plain sentences, most important first
    image_similarity: float | None = None  # cosine with the most similar pool image
    # the probability with the enrichment switched off (gate closed), H×W float32 like prob,
    # from the answer's own pass when the Predictor was asked for it (``gate_closed=True``):
    # what the neighbour changed, without a second backbone pass (inference/influence.py)
    gate_closed_prob: np.ndarray | None = None

    @property
    def confident(self) -> bool:
        """True iff there is no warning and the calibrated confidence is at least
        :data:`CONFIDENT` (the demo's ✔)."""
        return not self.warnings and self.confidence is not None and self.confidence >= CONFIDENT

    def resized(self, shape: tuple[int, int]) -> Prediction:
        """This prediction with its image-sized fields (mask, prob, gate_closed_prob, and the
        letterbox that maps image pixels to the input) at ``shape`` = (H, W) instead, e.g. to draw a huge upload
        at screen size; points given to :meth:`query_cells` then count in ``shape``'s pixels.
        A new object (``self`` when the shape is already that); the grid maps (attention,
        gates, A_2) are shared, not copied."""
        h, w = int(shape[0]), int(shape[1])
        if (h, w) == self.mask.shape:
            return self
        prob = resize_map(self.prob, (h, w))
        closed = (
            None if self.gate_closed_prob is None else resize_map(self.gate_closed_prob, (h, w))
        )
        return dataclasses.replace(
            self,
            mask=prob >= self.threshold,
            prob=prob,
            letterbox=self.letterbox.onto(h, w),
            gate_closed_prob=closed,
        )

    def grid_to_image(self, grid_map: np.ndarray, lb: Letterbox | None = None) -> np.ndarray:
        """A map on the model's grid (g×g over the S×S input) → H×W of the image (crop the
        padding, resize bilinearly)."""
        lb = lb or self.letterbox
        t = torch.from_numpy(np.asarray(grid_map, np.float32))[None, None]
        full = torch.nn.functional.interpolate(
            t, size=(lb.size, lb.size), mode="bilinear", align_corners=False
        )
        return lb.invert(full[0, 0]).numpy()

    def query_cells(
        self, where: np.ndarray | tuple[float, float] | None = None, grid: int | None = None
    ) -> np.ndarray:
        """Indices of grid cells of the query: those under a point (x, y) in original pixels,
        under a boolean H×W mask (default: the predicted mask, else the most probable cell).
        ``grid`` (default: the model's common grid) is the side of the grid the cells index."""
        g, lb = grid or self.grid, self.letterbox
        cell = lb.size / g
        if isinstance(where, tuple):
            x, y = where
            cx = int(np.clip(x * lb.scale // cell, 0, g - 1))
            cy = int(np.clip(y * lb.scale // cell, 0, g - 1))
            return np.array([cy * g + cx])
        m = self.mask if where is None else np.asarray(where, bool)
        if m.any():
            ys, xs = np.nonzero(m)
            cells = np.unique(
                (
                    np.clip(ys * lb.scale // cell, 0, g - 1) * g
                    + np.clip(xs * lb.scale // cell, 0, g - 1)
                ).astype(int)
            )
            return cells
        # nothing predicted: the most probable cell
        iy, ix = np.unravel_index(int(np.argmax(self.prob)), self.prob.shape)
        return self.query_cells((float(ix), float(iy)), g)

    def attention_grid(self, level: int, keys: bool = False) -> int:
        """Side of the query grid of A_level (the common grid, or the level's native one); with
        ``keys``, of the neighbour's grid its rows run over (smaller when the keys are pooled,
        ModelConfig.enrich_key_grid)."""
        if not self.attention:
            raise ValueError(
                f"this answer has no attention maps: variant {self.variant!r} has no "
                "cross-image attention, or the answer was asked with attention=False"
            )
        return math.isqrt(self.attention[{3: 0, 4: 1, 5: 2}[level]].shape[-1 if keys else -2])

    def attention_map(
        self, level: int = 5, where: np.ndarray | tuple[float, float] | None = None
    ) -> np.ndarray:
        """Where the query cells (default: the predicted referent) look in the retrieved image:
        the mean of their rows of A_level, as a k×k map over the neighbour's S×S input (k: the
        side of the keys' grid, :meth:`attention_grid` with ``keys=True``)."""
        g = self.attention_grid(level)  # first: it says why when there are no maps
        rows = self.attention[{3: 0, 4: 1, 5: 2}[level]][self.query_cells(where, g)]
        k = self.attention_grid(level, keys=True)
        return rows.mean(0).reshape(k, k)
