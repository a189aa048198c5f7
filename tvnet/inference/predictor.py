"""The inference API shared by the demo, the CLI and the tests (docs/design.md §7), in the
style of segment-anything.

    predictor = Predictor.from_checkpoint()            # the bundled default (assets/)
    pred = predictor(image, "the small green star")    # → Prediction
    pred.mask, pred.prob, pred.neighbour, pred.attention, pred.a2, pred.timings

The model and the retrieval pool load once; each call runs RES stage 1 (text-then-visual
search of the pool, unless a neighbour is forced), then the network on the query and the
retrieved image, and maps the mask back to the original image size (CMPC protocol).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tvnet.data.tokenize import tokenize
from tvnet.data.transforms import Letterbox, letterbox, to_tensor
from tvnet.image import MAX_PIXELS, InputError, read_image  # noqa: F401 (re-exported)
from tvnet.retrieval.neighbours import Neighbour

MAX_SIDE = 1600  # larger uploads are downscaled first (with a note)
MAX_CHARS = 500


def cut_at_word(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters without splitting a word: at the last
    whitespace within the limit, or hard at ``limit`` when the first word alone is longer."""
    if len(text) <= limit:
        return text
    if text[limit].isspace():
        return text[:limit].rstrip()
    head = text[:limit]
    cut = max((i for i, ch in enumerate(head) if ch.isspace()), default=-1)
    return head[:cut].rstrip() if head[: max(cut, 0)].strip() else head


def require_expression(expression: str | None) -> str:
    """``expression`` as a string; :class:`InputError` when it is missing or blank (the check
    that needs no model: :meth:`Predictor.check_expression` does the rest)."""
    if expression is None or not str(expression).strip():
        raise InputError("the expression is empty: describe the object to segment")
    return str(expression)


@dataclass
class Prediction:
    mask: np.ndarray  # H×W bool, original size
    prob: np.ndarray  # H×W float32, original size
    letterbox: Letterbox  # geometry of the query image on the S×S input
    grid: int  # h = w of the low-resolution grid
    attention: list[np.ndarray] = field(default_factory=list)  # A_3..A_5: hw×hw, own grid
    gates: list[np.ndarray] = field(default_factory=list)  # enrichment gates, channel mean
    a2: np.ndarray | None = None  # 2h×2w on the S×S input
    neighbour: Neighbour | None = None
    neighbour_letterbox: Letterbox | None = None
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per stage
    unknown_words: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    variant: str = ""
    work_shape: tuple[int, int] | None = None  # H×W the model read (smaller if downscaled)
    threshold: float = 0.5  # mask = prob ≥ threshold

    def resized(self, shape: tuple[int, int]) -> Prediction:
        """This prediction with its image-sized fields (mask, prob, and the letterbox that maps
        image pixels to the input) at ``shape`` = (H, W) instead, e.g. to draw a huge upload
        at screen size; points given to :meth:`query_cells` then count in ``shape``'s pixels.
        A new object (``self`` when the shape is already that); the grid maps (attention,
        gates, A_2) are shared, not copied."""
        h, w = int(shape[0]), int(shape[1])
        if (h, w) == self.mask.shape:
            return self
        from PIL import Image

        prob = np.array(Image.fromarray(self.prob).resize((w, h), Image.BILINEAR))
        return dataclasses.replace(
            self, mask=prob >= self.threshold, prob=prob, letterbox=self.letterbox.onto(h, w)
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

    def attention_grid(self, level: int) -> int:
        """Side of the grid A_level attends on (the common grid, or the level's native one)."""
        if not self.attention:
            raise ValueError(f"variant {self.variant!r} has no cross-image attention")
        return math.isqrt(self.attention[{3: 0, 4: 1, 5: 2}[level]].shape[-1])

    def attention_map(
        self, level: int = 5, where: np.ndarray | tuple[float, float] | None = None
    ) -> np.ndarray:
        """Where the query cells (default: the predicted referent) look in the retrieved image:
        the mean of their rows of A_level, as a g×g map over the neighbour's S×S input (g: the
        level's grid, :meth:`attention_grid`)."""
        g = self.attention_grid(level)
        a = self.attention[{3: 0, 4: 1, 5: 2}[level]]
        rows = a[self.query_cells(where, g)]
        return rows.mean(0).reshape(g, g)


class Predictor:
    """A loaded TV-Net plus (for RES variants) its retrieval pool."""

    def __init__(
        self,
        model: torch.nn.Module,
        retriever: Any = None,
        pool_images: Path | None = None,
        device: str = "cpu",
        amp: bool = True,
        info: dict[str, Any] | None = None,
    ):
        self.model = model.to(device).eval()
        self.retriever = retriever
        self.pool_images = Path(pool_images) if pool_images else None
        self.device, self.amp = device, amp
        self.info = info or {}
        self._pool_image_cache: dict[int, np.ndarray] = {}
        if self.model.uses_retrieval and retriever is None:
            raise ValueError(f"variant {self.variant!r} retrieves a neighbour: a pool is required")

    @property
    def variant(self) -> str:
        return self.model.cfg.variant

    @property
    def vocab(self):
        return self.model.vocab

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path | None = None,
        pool: str | Path | None = None,
        device: str | None = None,
        pool_images: str | Path | None = None,
        amp: bool = True,
        retriever: Any | None = None,
        runtime: str | None = None,
    ) -> Predictor:
        """Load a checkpoint folder (default: the bundled ``full`` model) and, for RES variants,
        a pool (default: the bundled pool; its images in ``POOL/images`` or ``pool_images``).

        ``retriever`` (another predictor's ``.retriever``) shares that pool and its encoders
        instead of loading them again; it must be built on ``pool`` (checked by manifest).

        ``runtime``: where the frozen networks (backbone, retrieval encoders) run: ``"torch"``,
        ``"onnxruntime"``, or None = ``$TVNET_RUNTIME`` or ``"auto"`` (onnxruntime on fp32-only
        CPUs, where it is faster; :mod:`tvnet.inference.runtime`). The first load of new weights
        exports them to ONNX (≈ 15 s each, cached on disk)."""
        from tvnet.assets import default_assets
        from tvnet.checkpoint import load_checkpoint, read_checkpoint_config
        from tvnet.inference.runtime import resolve_runtime
        from tvnet.io import default_device
        from tvnet.warmstart import checkpoint_init

        assets = default_assets()
        path = Path(path) if path else assets["checkpoint"]
        device = device or default_device()
        runtime = resolve_runtime(runtime, device, amp)
        model = load_checkpoint(path, device=device)
        model.eval().backbone.optimize_for_inference(runtime)  # BN folded: inference only
        meta = read_checkpoint_config(path)
        if not model.uses_retrieval:
            retriever = None
        else:
            from tvnet.retrieval.image_encoder import ImageEncoder
            from tvnet.retrieval.neighbours import Retriever
            from tvnet.retrieval.pool import DataPool
            from tvnet.retrieval.text_encoder import TextEncoder

            pool = Path(pool) if pool else assets["pool"]
            if retriever is not None:
                from tvnet.io import read_json

                if retriever.pool.manifest != read_json(pool / "manifest.json", "pool manifest"):
                    raise ValueError(f"the shared retriever was not built on the pool {pool}")
                if retriever.k_text != model.cfg.retrieval_k_text:
                    retriever = copy.copy(retriever)
                    retriever.k_text = model.cfg.retrieval_k_text
            else:
                retriever = Retriever(
                    DataPool.load(pool),
                    TextEncoder(device=device, runtime=runtime),
                    ImageEncoder(device=device, runtime=runtime),
                    k_text=model.cfg.retrieval_k_text,
                )
            if pool_images is None:
                pool_images = pool / "images"
                data_dir = (meta.get("data") or {}).get("data_dir")
                if not pool_images.is_dir() and data_dir:
                    pool_images = Path(data_dir) / "images"
        info = {
            "checkpoint": str(path),
            "pool": str(pool) if pool else None,
            "data": meta.get("data"),
            "train": meta.get("train"),
            "step": meta.get("step"),
            "init": checkpoint_init(path, meta),  # a warm start's source, see tvnet train --init
            "runtime": "onnxruntime" if model.backbone.onnx is not None else "torch",
        }
        return cls(model, retriever, pool_images, device=device, amp=amp, info=info)

    # -- pool access ------------------------------------------------------------------------
    def pool_image(self, index: int) -> np.ndarray:
        """The image of pool entry ``index`` (H×W×3 uint8)."""
        meta = self.retriever.pool.meta.iloc[int(index)]
        image_id = int(meta["image_id"])
        if image_id not in self._pool_image_cache:
            if self.pool_images is None or "file_name" not in meta:
                raise FileNotFoundError("the pool's images are not available (no images folder)")
            f = self.pool_images / str(meta["file_name"])
            if f.is_file():
                img = read_image(f)
            else:
                img = self._regenerate(image_id)
                if img is None:
                    raise FileNotFoundError(
                        f"pool image {f} not found; regenerate the data (`tvnet synth`) or pass pool_images"
                    )
            self._pool_image_cache[image_id] = img
            if len(self._pool_image_cache) > 256:
                self._pool_image_cache.pop(next(iter(self._pool_image_cache)))
        return self._pool_image_cache[image_id]

    def _regenerate(self, image_id: int) -> np.ndarray | None:
        """SynthRef pools may ship without images: a scene is a pure function of (seed, split,
        index), recorded per image in ``POOL/regenerate.json``."""
        import json

        spec_file = Path(self.info.get("pool") or "") / "regenerate.json"
        if not spec_file.is_file():
            return None
        if not hasattr(self, "_regen_spec"):
            self._regen_spec = json.loads(spec_file.read_text())
        spec = self._regen_spec
        where = spec.get("scenes", {}).get(str(image_id))
        if spec.get("generator") != "synthref" or where is None:
            return None
        from tvnet.data.synthref import make_scene

        return make_scene(int(spec["seed"]), where[0], int(where[1])).image

    def candidates(self, image: Any, expression: str):
        """The text top-k of the pool re-ranked by image similarity (what RES stage 1 saw)."""
        img = read_image(image)
        return self.retriever.neighbour(img, expression).candidates

    # -- inference ----------------------------------------------------------------------------
    def check_expression(self, expression: str | None) -> tuple[str, list[str]]:
        notes = []
        expression = require_expression(expression)
        if len(expression) > MAX_CHARS:
            cut = cut_at_word(expression, MAX_CHARS)
            where = " (at a word boundary)" if expression[len(cut)].isspace() else ""
            expression = cut
            notes.append(f"expression cut to its first {MAX_CHARS} characters{where}")
        toks = tokenize(expression)
        if not toks:
            raise InputError("the expression has no words")
        T = self.model.cfg.max_tokens
        if len(toks) > T:
            notes.append(f"expression has {len(toks)} words; the model reads the first {T}")
        return expression, notes

    @torch.inference_mode()
    def __call__(
        self,
        image: Any,
        expression: str,
        neighbour: int | None = None,
        threshold: float = 0.5,
    ) -> Prediction:
        """Segment what ``expression`` refers to in ``image`` (array, PIL image or path).

        ``neighbour``: force pool entry ``neighbour`` as the retrieved sample (the demo lets a
        user try other candidates); default: RES stage 1 picks it."""
        from tvnet.amp import autocast_context

        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        expression, notes = self.check_expression(expression)
        img = read_image(image)
        h, w = img.shape[:2]
        if max(h, w) > MAX_SIDE:
            from PIL import Image

            s = MAX_SIDE / max(h, w)
            img = np.asarray(
                Image.fromarray(img).resize(
                    (max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR
                )
            )
            notes.append(
                f"image downscaled from {w}×{h} to {img.shape[1]}×{img.shape[0]} for the model; "
                "the mask is at the original size"
            )
        unknown = self.vocab.unknown(expression)
        if unknown:
            notes.append(
                "words outside the vocabulary (read as <unk>): " + ", ".join(dict.fromkeys(unknown))
            )
        S = self.model.cfg.input_size
        boxed, lb = letterbox(img, S)
        work_shape = img.shape[:2]
        if work_shape != (h, w):  # map the input back onto the upload, not its downscaled copy
            lb = lb.onto(h, w)
        x = to_tensor(boxed)[None].to(self.device)
        ids, n = self.vocab.encode(expression, self.model.cfg.max_tokens)
        tokens = torch.from_numpy(ids)[None].to(self.device)
        lengths = torch.tensor([n])
        timings["preprocess"] = (time.perf_counter() - t0) * 1000

        nb, nb_lb, ref = None, None, None
        if self.model.uses_retrieval:
            t = time.perf_counter()
            if neighbour is None:
                nb = self.retriever.neighbour(img, expression)
                if not nb.found:
                    raise InputError("the retrieval pool holds no eligible neighbour")
            else:
                pool = self.retriever.pool
                if not 0 <= int(neighbour) < len(pool):
                    raise InputError(
                        f"neighbour index {neighbour} is outside the pool (0…{len(pool) - 1})"
                    )
                nb = Neighbour.from_pool(pool, int(neighbour))  # scores NaN: chosen
            timings["retrieval"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            nb.image = self.pool_image(nb.index)
            nboxed, nb_lb = letterbox(nb.image, S)
            ref = to_tensor(nboxed)[None].to(self.device)
            timings["neighbour_load"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        with autocast_context(self.device, self.amp):
            out = self.model(tokens, lengths, image=x, ref_image=ref, return_attention=True)
        prob_s = torch.sigmoid(out.logits.float())[0, 0].cpu()
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
        timings["model"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        prob = lb.invert(prob_s).numpy()
        grid = S // 8
        pred = Prediction(
            mask=prob >= threshold,
            prob=prob.astype(np.float32, copy=False),
            letterbox=lb,
            grid=grid,
            attention=[a[0].float().cpu().numpy() for a in out.attention],
            gates=[g[0].float().mean(0).cpu().numpy() for g in out.gates],
            a2=None if out.a2 is None else out.a2[0, 0].float().cpu().numpy(),
            neighbour=nb,
            neighbour_letterbox=nb_lb,
            unknown_words=list(dict.fromkeys(unknown)),
            notes=notes,
            variant=self.variant,
            work_shape=(int(work_shape[0]), int(work_shape[1])),
            threshold=float(threshold),
        )
        timings["postprocess"] = (time.perf_counter() - t) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        pred.timings = timings
        return pred
