"""Refer-format datasets: RefCOCO, RefCOCO+, RefCOCOg, ReferIt (refclef) and SynthRef (docs/design.md §4).

Standard layout (the ``refer`` toolkit's ``data/`` folder)::

    refer/data/refcoco/refs(unc).p        # pickled list of refs (or refs(unc).json)
    refer/data/refcoco/instances.json     # COCO-style images / annotations / categories
    refer/data/images/mscoco/images/train2014/COCO_train2014_*.jpg
    refer/data/images/saiapr_tc-12/...    # refclef images

A *sample* is one expression (sentence); its ``sample_id`` is the ``sent_id``.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tvnet.data.tokenize import tokenize
from tvnet.data.unpickle import safe_load

SPLIT_ORDER = ("train", "val", "test", "testA", "testB", "testC")
# at most this many images of a dataset (and fewer than half of them) may be missing from its
# images folder and have their expressions left out, with a warning: refclef's berkeley split
# lists three that the saiapr_tc-12 set does not hold, as the refer toolkit's README says; more
# missing is an incomplete download, whose first missing image is an error when read
MISSING_IMAGES_LEFT_OUT = 10


def _first(items: list[Any], n: int = 5) -> str:
    """The first ``n`` of ``items`` for a warning, "…" after them when there are more."""
    return ", ".join(map(str, items[:n])) + (" …" if len(items) > n else "")


_REFS_FILE = re.compile(r"^refs\((?P<split_by>[^)]+)\)\.(?P<ext>p|json)$")

LAYOUT_HELP = (
    "Expected the refer layout: DATA_DIR/refs(SPLITBY).p (or refs(SPLITBY).json) and "
    "DATA_DIR/instances.json, with images in DATA_DIR/images/ or "
    "DATA_DIR/../images/mscoco/images/train2014/ (refclef: DATA_DIR/../images/saiapr_tc-12/). "
    "See docs/data.md."
)


@dataclass(frozen=True)
class Sample:
    """One referring expression and the object it refers to. ``bbox`` is COCO (x, y, w, h)."""

    sample_id: int
    ref_id: int
    sent_id: int
    image_id: int
    ann_id: int
    category_id: int
    sentence: str
    file_name: str
    split: str
    bbox: tuple[float, float, float, float]
    expression_type: str | None = None  # the sentence's ``type`` where the refs record one


class ReferDataset:
    """One refer-format dataset (one ``refs(SPLITBY)`` file + ``instances.json``)."""

    def __init__(
        self,
        name: str,
        split_by: str,
        root: Path,
        refs: list[dict[str, Any]],
        instances: dict[str, Any],
        images_dir: Path,
        refs_path: Path | None = None,
    ):
        self.name = name
        self.split_by = split_by
        self.root = Path(root)
        self.images_dir = Path(images_dir)
        self.refs_path = refs_path
        src = refs_path or self.root
        try:
            self._index(refs, instances, src)
        except (KeyError, TypeError, AttributeError, ValueError) as e:
            if isinstance(e, ValueError) and str(e).startswith(f"{src}:"):
                raise  # said already, with the entry it concerns
            raise ValueError(f"{src}: malformed refer data ({type(e).__name__}: {e})") from e
        self.missing_images: list[int] = self._leave_out_missing_images()

    def _leave_out_missing_images(self) -> list[int]:
        """Leave out the expressions of the few images the images folder lacks
        (:data:`MISSING_IMAGES_LEFT_OUT`), with a warning, and return those images' ids. Nothing
        is left out when the folder itself is absent (the expressions alone are read: expression
        types, say) or when more are missing (an incomplete download: reading one is an error
        that says where the images are looked for)."""
        if not self.images_dir.is_dir():
            return []
        used = {s.image_id for samples in self._samples.values() for s in samples}
        names = {i: str(self._images[i]["file_name"]) for i in used}
        if all("/" not in n for n in names.values()):  # one listing, not a stat per image
            present = set(os.listdir(self.images_dir))
            missing = sorted(i for i, n in names.items() if n not in present)
        else:
            missing = sorted(i for i, n in names.items() if not (self.images_dir / n).is_file())
        if not missing or len(missing) > MISSING_IMAGES_LEFT_OUT or 2 * len(missing) >= len(used):
            return []
        gone = set(missing)
        n_before = sum(len(v) for v in self._samples.values())
        for split in list(self._samples):
            self._samples[split] = [s for s in self._samples[split] if s.image_id not in gone]
            if not self._samples[split]:
                del self._samples[split]
        for sid in [sid for sid, s in self._by_id.items() if s.image_id in gone]:
            del self._by_id[sid]
        left = n_before - sum(len(v) for v in self._samples.values())
        shown = _first([names[i] for i in missing])
        warnings.warn(
            f"{self.name}: {len(missing)} image(s) missing from {self.images_dir} ({shown}); "
            f"their {left} expression(s) are left out",
            stacklevel=3,
        )
        return missing

    def _index(self, refs: list[dict[str, Any]], instances: dict[str, Any], src: Any) -> None:
        """Images, annotations, categories, refs and one sample per sentence, by id; a
        ValueError naming ``src`` for what is inconsistent."""
        self._images: dict[int, dict[str, Any]] = {}
        for img in instances.get("images") or []:
            self._images[int(img["id"])] = img
        self._anns: dict[int, dict[str, Any]] = {}
        self._anns_by_image: dict[int, list[dict[str, Any]]] = {}
        for ann in instances.get("annotations") or []:
            self._anns[int(ann["id"])] = ann
            if ann.get("image_id") is not None:
                self._anns_by_image.setdefault(int(ann["image_id"]), []).append(ann)
        self.categories: dict[int, str] = {
            int(c["id"]): str(c.get("name", c["id"])) for c in instances.get("categories") or []
        }
        self._refs: dict[int, dict[str, Any]] = {}
        self._samples: dict[str, list[Sample]] = {}
        self._by_id: dict[int, Sample] = {}
        self.empty_sentences: list[int] = []  # sent_ids left out: no text to read
        for ref in refs:
            try:
                ref_id, ann_id, image_id = (
                    int(ref["ref_id"]),
                    int(ref["ann_id"]),
                    int(ref["image_id"]),
                )
                split, sentences = str(ref["split"]), ref["sentences"]
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"{src}: malformed ref entry ({e!r}): {str(ref)[:200]}") from e
            if ref_id in self._refs:
                raise ValueError(f"{src}: duplicate ref_id {ref_id}")
            if image_id not in self._images:
                raise ValueError(
                    f"{src}: ref {ref_id} names image {image_id}, not in instances.json"
                )
            if ann_id not in self._anns:
                raise ValueError(
                    f"{src}: ref {ref_id} names annotation {ann_id}, not in instances.json"
                )
            self._refs[ref_id] = ref
            ann = self._anns[ann_id]
            bbox = tuple(float(v) for v in ann.get("bbox", (0.0, 0.0, 0.0, 0.0)))
            category_id = int(ref.get("category_id", ann.get("category_id", 0)))
            file_name = str(self._images[image_id]["file_name"])
            for sent in sentences:
                sent_id = int(sent["sent_id"])
                if sent_id in self._by_id:
                    raise ValueError(f"{src}: duplicate sent_id {sent_id}")
                text = _sentence_text(sent)
                if text is None:  # nothing to segment by: left out, said once below
                    self.empty_sentences.append(sent_id)
                    continue
                s = Sample(
                    sample_id=sent_id,
                    ref_id=ref_id,
                    sent_id=sent_id,
                    image_id=image_id,
                    ann_id=ann_id,
                    category_id=category_id,
                    sentence=str(text),
                    file_name=file_name,
                    split=split,
                    bbox=bbox,  # type: ignore[arg-type]
                    expression_type=None if sent.get("type") is None else str(sent["type"]),
                )
                self._by_id[sent_id] = s
                self._samples.setdefault(split, []).append(s)
        if self.empty_sentences:
            shown = _first(self.empty_sentences)
            warnings.warn(
                f"{src}: {len(self.empty_sentences)} sentence(s) without words left out "
                f"(sent_id {shown})",
                stacklevel=4,
            )

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={len(self._samples[k])}" for k in self.splits())
        return f"ReferDataset({self.name!r}, split_by={self.split_by!r}, {counts})"

    # -- expressions -------------------------------------------------------------------------
    def fingerprint(self) -> str:
        """The SHA-256 of its refs file ("" when it was read from no file): what ``tvnet eval``
        records as ``dataset.fingerprint``, so that two datasets of one name (SynthRef of two
        seeds) are told apart."""
        from tvnet.io import file_sha256

        return file_sha256(self.refs_path) if self.refs_path else ""

    def splits(self) -> list[str]:
        """Split names present, standard ones first (train, val, test, testA, testB, testC)."""
        known = [s for s in SPLIT_ORDER if s in self._samples]
        return known + sorted(s for s in self._samples if s not in SPLIT_ORDER)

    def samples(self, split: str) -> list[Sample]:
        """Every expression of ``split``, in file order (refs, then their sentences)."""
        if split not in self._samples:
            raise ValueError(
                f"{self.name} ({self.split_by}) has no split {split!r}; it has {self.splits()}"
            )
        return list(self._samples[split])

    def sample(self, sample_id: int) -> Sample:
        """The sample with this ``sample_id`` (= ``sent_id``)."""
        try:
            return self._by_id[int(sample_id)]
        except KeyError:
            raise KeyError(f"{self.name}: no sample with sample_id {sample_id}") from None

    def ref(self, ref_id: int) -> dict[str, Any]:
        return self._refs[int(ref_id)]

    def annotation(self, ann_id: int) -> dict[str, Any]:
        return self._anns[int(ann_id)]

    def image_annotations(self, image_id: int) -> list[dict[str, Any]]:
        """Every annotation (object) of an image, referred to or not, in file order."""
        if int(image_id) not in self._images:
            raise KeyError(f"{self.name}: no image with id {image_id}")
        return list(self._anns_by_image.get(int(image_id), []))

    def image_ids(self, split: str | None = None) -> list[int]:
        """Images in the dataset (or holding a ref of ``split``), sorted."""
        if split is None:
            return sorted(self._images)
        return sorted({s.image_id for s in self.samples(split)})

    # -- images ------------------------------------------------------------------------------
    def _image_entry(self, image_id: int) -> dict[str, Any]:
        try:
            return self._images[int(image_id)]
        except KeyError:
            raise KeyError(f"{self.name}: image_id {image_id} is not in instances.json") from None

    def image_path(self, image_id: int) -> Path:
        return self.images_dir / str(self._image_entry(image_id)["file_name"])

    def image_size(self, image_id: int) -> tuple[int, int]:
        """(h, w) as recorded in instances.json."""
        img = self._image_entry(image_id)
        return int(img["height"]), int(img["width"])

    def load_image(self, image_id: int) -> np.ndarray:
        """H×W×3 uint8 RGB, read by :func:`tvnet.image.read_image` in the stored orientation
        (the annotations are drawn on the stored pixels; alpha composited onto white)."""
        from tvnet.image import read_image

        path = self.image_path(image_id)
        if not path.is_file():
            raise FileNotFoundError(
                f"image {image_id} of {self.name} not found: {path}. "
                f"Images are read from {self.images_dir} (pass images_dir= to open_refer to "
                f"change it). {LAYOUT_HELP}"
            )
        img = read_image(path, name=f"image {image_id} of {self.name} ({path})", exif=False)
        h, w = self.image_size(image_id)
        if img.shape[:2] != (h, w):  # its mask is drawn at the recorded size
            raise ValueError(
                f"image {image_id} of {self.name} ({path}) is {img.shape[0]}×{img.shape[1]}, "
                f"instances.json says {h}×{w}: its mask would not lie on it"
            )
        return img

    # -- masks -------------------------------------------------------------------------------
    def mask(self, ref_id: int) -> np.ndarray:
        """H×W bool: the union (max, not sum) of the ref's polygons or RLE."""
        try:
            ref = self._refs[int(ref_id)]
        except KeyError:
            raise KeyError(f"{self.name}: no ref with ref_id {ref_id}") from None
        ann = self._anns[int(ref["ann_id"])]
        h, w = self.image_size(int(ref["image_id"]))
        return decode_segmentation(ann.get("segmentation"), h, w)


def decode_segmentation(seg: Any, h: int, w: int) -> np.ndarray:
    """COCO segmentation (polygon list, RLE dict or list of RLEs) → H×W bool union."""
    from pycocotools import mask as mask_utils

    if seg is None:
        return np.zeros((h, w), dtype=bool)
    if isinstance(seg, dict):
        rles = [seg]
    elif isinstance(seg, list) and seg and isinstance(seg[0], dict):
        rles = list(seg)
    elif isinstance(seg, list):
        # polygons: [[x1, y1, x2, y2, ...], ...]; a part needs ≥ 3 points
        polys = [[float(v) for v in p] for p in seg if len(p) >= 6]
        if not polys:
            return np.zeros((h, w), dtype=bool)
        rles = mask_utils.frPyObjects(polys, h, w)
    else:
        raise ValueError(f"unknown segmentation format: {type(seg).__name__}")
    decoded = []
    for rle in rles:
        if isinstance(rle.get("counts"), list):  # uncompressed RLE
            rle = mask_utils.frPyObjects(rle, *rle["size"])
        elif isinstance(rle.get("counts"), str):
            rle = {"size": rle["size"], "counts": rle["counts"].encode("ascii")}
        d = mask_utils.decode(rle)
        if d.shape[:2] != (h, w):  # an RLE of another size (say [w, h]) would reshape scrambled
            raise ValueError(
                f"an RLE of size {list(d.shape[:2])} for an image of {h}×{w} in instances.json"
            )
        decoded.append(d)
    m = np.stack([d.reshape(h, w, -1).max(axis=2) for d in decoded], axis=0).max(axis=0)
    return m.astype(bool)


# the refer datasets released with more than one split scheme (lichengunc/refer's README)
SEVERAL_SCHEMES = {"refcoco": ("unc", "google"), "refcocog": ("umd", "google"),
                   "refclef": ("unc", "berkeley")}  # fmt: skip
# the schemes only those datasets have ("unc" is refcoco+'s, its one scheme, too)
THEIR_SCHEMES = frozenset(s for schemes in SEVERAL_SCHEMES.values() for s in schemes) - {"unc"}


def _sentence_text(sent: dict) -> str | None:
    """A refer sentence's text: its ``sent``, else its ``raw``, else its ``tokens`` joined,
    the first that has a word as the models read words (:func:`tokenize`): a blank or
    punctuation-only ``sent`` ("?") falls through to a ``raw`` that has words, and a sentence
    with none anywhere is None (the toolkit carries such sentences along; encoding one would
    fail the whole split)."""
    for text in (sent.get("sent"), sent.get("raw"), " ".join(map(str, sent.get("tokens") or []))):
        if text is not None and tokenize(str(text)):
            return str(text)
    return None


def _find_refs_file(data_dir: Path, split_by: str | None) -> tuple[Path, str, bool]:
    """The refs file to read, its split scheme, and whether the folder holds several schemes."""
    found: list[tuple[str, Path]] = []
    for p in sorted(data_dir.iterdir()):
        m = _REFS_FILE.match(p.name)
        if m and p.is_file():
            found.append((m.group("split_by"), p))
    several = len({sb for sb, _ in found}) > 1
    if split_by is not None:
        for sb, p in sorted(found, key=lambda t: t[1].suffix != ".json"):  # JSON first
            if sb == split_by:
                return p, sb, several
        have = ", ".join(p.name for _, p in found) or "none"
        raise FileNotFoundError(
            f"refs file for split_by={split_by!r} not found in {data_dir}: expected "
            f"refs({split_by}).p or refs({split_by}).json (found: {have}). {LAYOUT_HELP}"
        )
    if not found:
        raise FileNotFoundError(
            f"no refs(SPLITBY).p or refs(SPLITBY).json in {data_dir}. {LAYOUT_HELP}"
        )
    names = sorted({sb for sb, _ in found})
    if len(names) > 1:
        raise ValueError(
            f"{data_dir} holds refs files for several split schemes {names} "
            f"({', '.join(p.name for _, p in found)}); choose one: pass the refs file as the "
            f"dataset (--data {data_dir / found[0][1].name}) or, in Python, "
            f"open_refer(..., split_by={names[0]!r})"
        )
    # refs(x).p and refs(x).json both present: prefer JSON (no unpickling at all)
    json_first = sorted(found, key=lambda t: t[1].suffix != ".json")
    return json_first[0][1], names[0], several


def _default_images_dir(data_dir: Path, name: str) -> Path:
    local = data_dir / "images"
    if local.is_dir():
        return local
    if name == "refclef":
        return data_dir.parent / "images" / "saiapr_tc-12"
    return data_dir.parent / "images" / "mscoco" / "images" / "train2014"


def default_images_dir(data: str | Path) -> Path:
    """Where :func:`open_refer` reads the images of ``data`` (a folder or a refs file, as a
    ``--data`` argument or a checkpoint's recorded ``data_dir`` names it) when it is given no
    ``images_dir``, without reading the dataset: DATA/images, else the refer layout's shared
    images folder, the dataset named by its folder."""
    folder, _ = refer_location(data)
    return _default_images_dir(folder, folder.resolve().name)


def refer_location(data: str | Path) -> tuple[Path, str | None]:
    """(folder, split scheme) that a ``--data`` argument, or a dump's recorded ``data_dir``,
    names: a refs file (``refer/data/refcocog/refs(umd).p``) names its folder and its scheme;
    anything else is the folder itself, with the scheme left to :func:`open_refer`."""
    data = Path(data)
    m = _REFS_FILE.match(data.name)
    if m is None or data.is_dir():  # a folder that happens to be named so is a folder
        return data, None
    return data.parent, m.group("split_by")


def open_refer(
    data_dir: str | Path, images_dir: str | Path | None = None, split_by: str | None = None
) -> ReferDataset:
    """Open a refer-format dataset folder (see the module docstring for the layout).

    ``split_by`` picks among several refs files (refcocog: ``umd`` or ``google``); so does
    ``data_dir`` naming the refs file itself (``refer/data/refcocog/refs(umd).p``), which is how
    the command lines choose one (``--data``). A dataset chosen among several schemes is named
    with its scheme (``refcocog_umd``), so that its neighbour tables, dumps and report rows
    never mix with another scheme's splits of the same images; so is every dataset released
    with several schemes (:data:`SEVERAL_SCHEMES`: ``refcoco_unc``) even alone in its folder, so
    that its name does not depend on which other refs files lie beside it. ``refcoco+`` (one
    scheme) and a dataset that names itself in ``instances.json`` (``info.dataset``, as
    SynthRef does) keep their names while the folder holds one scheme.
    """
    folder, named = refer_location(data_dir)
    if named is not None:
        if split_by is not None and split_by != named:
            raise ValueError(f"{data_dir} is the split_by={named!r} refs file, "
                             f"not {split_by!r}")  # fmt: skip
        if not Path(data_dir).is_file():
            raise FileNotFoundError(f"refs file not found: {data_dir}. {LAYOUT_HELP}")
        split_by = named
    data_dir = folder
    if not data_dir.is_dir():
        raise FileNotFoundError(f"dataset folder not found: {data_dir}. {LAYOUT_HELP}")
    refs_path, split_by, several = _find_refs_file(data_dir, split_by)
    inst_path = data_dir / "instances.json"
    if not inst_path.is_file():
        raise FileNotFoundError(f"instances.json not found: {inst_path}. {LAYOUT_HELP}")
    if refs_path.suffix == ".json":
        try:
            refs = json.loads(refs_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f"refs file {refs_path} is corrupt: {e}") from e
    else:
        refs = safe_load(refs_path)
    if not isinstance(refs, list):
        raise ValueError(f"{refs_path} should hold a list of refs, got {type(refs).__name__}")
    try:
        instances = json.loads(inst_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"instances file {inst_path} is corrupt: {e}") from e
    if (
        not isinstance(instances, dict)
        or "images" not in instances
        or "annotations" not in instances
    ):
        raise ValueError(f"{inst_path} is not COCO-style (needs 'images' and 'annotations')")
    info = instances.get("info") if isinstance(instances.get("info"), dict) else {}
    own = str(info.get("dataset") or "")  # a name the dataset gives itself (SynthRef's)
    name = own or data_dir.resolve().name
    images = Path(images_dir) if images_dir is not None else _default_images_dir(data_dir, name)
    # a dataset released with several schemes carries its scheme (refcoco_unc), whichever
    # other refs files share the folder: copying refs(unc).p alone must not rename it (its
    # pools, feature cache and checkpoints are keyed by the name); refcoco+ has one scheme
    suffixed = several or (
        not own  # schemes only such datasets have say so too, whatever the folder is called
        and (name.lower() in SEVERAL_SCHEMES or split_by in THEIR_SCHEMES)
    )
    return ReferDataset(
        name=f"{name}_{split_by}" if suffixed else name,
        split_by=split_by,
        root=data_dir,
        refs=refs,
        instances=instances,
        images_dir=images,
        refs_path=refs_path,
    )
