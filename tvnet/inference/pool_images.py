"""The images of a retrieval pool's entries, for the Predictor (the retrieved neighbour, the
candidates of the influence views; docs/design.md §7).

They are read from the pool's images folder in their stored orientation, as training read them
(:func:`tvnet.image.read_image` with ``exif=False``), and kept in a small LRU by image id. A
SynthRef pool may ship without its images: a scene is a pure function of (seed, split, index),
recorded per image in ``POOL/regenerate.json``, and is generated again when its file is absent.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from tvnet.image import read_image

KEEP = 256  # decoded pool images kept (320² SynthRef scenes: ≈ 0.3 MB each)
REGENERATE_FILE = "regenerate.json"


class PoolImages:
    """``images(index)`` → the H×W×3 uint8 image of pool entry ``index``.

    ``pool``: the :class:`~tvnet.retrieval.pool.DataPool` (its ``meta`` names each entry's
    ``image_id`` and ``file_name``); ``folder``: where the image files are (None: none);
    ``pool_dir``: the pool's folder, for ``regenerate.json``."""

    def __init__(self, pool: Any, folder: Path | None, pool_dir: Path | None) -> None:
        self.pool = pool
        self.folder = Path(folder) if folder else None
        self.pool_dir = Path(pool_dir) if pool_dir else None
        self._kept: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._spec: dict[str, Any] | None = None

    def __call__(self, index: int) -> np.ndarray:
        meta = self.pool.meta.iloc[int(index)]
        image_id = int(meta["image_id"])
        with self._lock:
            if image_id in self._kept:
                self._kept.move_to_end(image_id)
                return self._kept[image_id]
        if self.folder is None or "file_name" not in meta:
            raise FileNotFoundError("the pool's images are not available (no images folder)")
        f = self.folder / str(meta["file_name"])
        if f.is_file():
            img = read_image(f, exif=False)  # as training read it
        else:
            img = self._regenerate(image_id)
            if img is None:
                raise FileNotFoundError(
                    f"pool image {f} not found; regenerate the data (`tvnet synth`) or pass "
                    "pool_images"
                )
        img.setflags(write=False)  # kept and handed to every caller: drawing on it would
        # change what the next answer with this neighbour reads (cv2 draws in place)
        with self._lock:
            self._kept[image_id] = img
            while len(self._kept) > KEEP:
                self._kept.popitem(last=False)
        return img

    def _regenerate(self, image_id: int) -> np.ndarray | None:
        """The SynthRef scene of ``image_id`` made again from ``regenerate.json``, or None when
        the pool has no such record or the image is not in it."""
        from tvnet.io import read_json

        spec_file = (self.pool_dir or Path("")) / REGENERATE_FILE
        if self.pool_dir is None or not spec_file.is_file():
            return None
        if self._spec is None:
            self._spec = read_json(spec_file, "pool regeneration record")
        spec = self._spec
        try:
            where = spec.get("scenes", {}).get(str(image_id))
            if spec.get("generator") != "synthref" or where is None:
                return None
            seed, split, index = int(spec["seed"]), str(where[0]), int(where[1])
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as e:
            raise ValueError(f"{spec_file} is corrupt ({type(e).__name__}: {e})") from e
        from tvnet.data.synthref import make_scene

        return make_scene(seed, split, index).image
