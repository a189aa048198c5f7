"""TV-Net (paper Fig. 2): backbone → [RES enrichment] → fusion + gate → ConvLSTM → [AMF | Cct] → head.

The network reads precomputed backbone features when it is given them (frozen-backbone
training from a feature cache) and images otherwise; the maths is the same either way.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from tvnet.config import ModelConfig
from tvnet.data.tokenize import Vocab
from tvnet.model.adapter import VisualAdapter
from tvnet.model.amf import AMF, Cct, up2
from tvnet.model.backbone import Backbone
from tvnet.model.enrichment import Enrichment
from tvnet.model.fusion import BilinearFusion, ConvLSTM, LanguageGate
from tvnet.model.head import MaskHead
from tvnet.model.hf_text import HFTokenEncoder, SubwordVocab
from tvnet.model.spatial import spatial_features
from tvnet.model.text_encoder import TextEncoder


@dataclass
class TVNetOutput:
    logits_low: torch.Tensor  # B×1×2h×2w (head resolution)
    size: int  # S, the input side
    # A_3, A_4, A_5: B×hw×k² on each level's grid (RES only; ModelConfig.enrich_native and
    # enrich_key_grid: k = h unless the keys are pooled)
    attention: list[torch.Tensor] = field(default_factory=list)
    gates: list[torch.Tensor] = field(default_factory=list)  # σ(Conv(V_l^in)): B×C_l×h_l×w_l
    a2: torch.Tensor | None = None  # B×1×2h×2w (AMF only)
    aux_logits: list[torch.Tensor] = field(default_factory=list)  # B×1×h×w each (training only)

    @functools.cached_property
    def logits(self) -> torch.Tensor:
        """B×1×S×S: the head's logits upsampled bilinearly to the input, computed when first
        read (a loss at the head's grid never pays for it, TrainConfig.loss_grid)."""
        return F.interpolate(
            self.logits_low, size=(self.size, self.size), mode="bilinear", align_corners=False
        )


@dataclass
class VisualFeatures:
    """What :meth:`TVNet.visual` hands to :meth:`TVNet.decode`: V2 (B×C2×2h×2w), [V3', V4',
    V5'] (each at its native grid unless RES enriches on the common h×h grid; the fusion
    brings them to h×h), the input side S, and the RES maps (empty without RES)."""

    v2: torch.Tensor
    v_low: list[torch.Tensor]
    size: int
    attention: list[torch.Tensor] = field(default_factory=list)
    gates: list[torch.Tensor] = field(default_factory=list)


class TVNet(nn.Module):
    def __init__(self, cfg: ModelConfig, vocab: Vocab | SubwordVocab, pretrained: bool = True):
        super().__init__()
        self.cfg, self.vocab = cfg, vocab
        flags = cfg.flags
        self.backbone = Backbone(cfg, pretrained=pretrained)
        c2, *c_low = self.backbone.channels
        self.adapter = (
            VisualAdapter(self.backbone.channels, cfg.visual_adapter)
            if cfg.visual_adapter
            else None
        )
        if cfg.text_encoder == "hf_tokens":
            self.text = HFTokenEncoder(cfg.text_model, cfg.d_s, cfg.text_layer)
        else:
            self.text = TextEncoder(len(vocab), cfg.word_dim, cfg.d_s)
        self.enrich = (
            nn.ModuleList(Enrichment(c, cfg.enrich_key_grid) for c in c_low) if flags.res else None
        )
        self.fusion = nn.ModuleList(
            BilinearFusion(c, cfg.d_s, cfg.d_m, cfg.fusion_heads) for c in c_low
        )
        self.gate = nn.ModuleList(LanguageGate(cfg.d_m, cfg.d_s) for _ in range(cfg.gate_rounds))
        self.convlstm = ConvLSTM(cfg.d_m)
        self.amf = AMF(cfg.d_m, c2, cfg.amf_channels) if flags.highres == "amf" else None
        self.cct = Cct(cfg.d_m, c2) if flags.highres == "cct" else None
        self.head = MaskHead(cfg.d_m)
        self.aux = nn.ModuleList(nn.Conv2d(cfg.d_m, 1, 1) for _ in c_low)

    @property
    def uses_retrieval(self) -> bool:
        return self.enrich is not None

    def _siamese_batch(self, image, ref_image, ref_feats) -> bool:
        """Whether query and retrieved image can share one backbone call: both are images of
        one shape, and the backbone's BatchNorm uses running statistics (frozen, or eval)."""
        return (
            self.enrich is not None
            and ref_feats is None
            and ref_image is not None
            and ref_image.shape == image.shape
            and (self.backbone.frozen or not self.training)
        )

    def features(
        self, image: torch.Tensor, ref_image: torch.Tensor | None = None
    ) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
        """Backbone maps [V2..V5] of ``image`` and of ``ref_image`` (None when not given), in one
        backbone call when :meth:`_siamese_batch` allows it."""
        if self._siamese_batch(image, ref_image, None):
            # one backbone call on [query; retrieved]: the same features (eval-mode BN
            # is per sample), one pass of the layers' overhead instead of two
            both = self.backbone.extract(torch.cat([image, ref_image]))
            return [f[: image.shape[0]] for f in both], [f[image.shape[0] :] for f in both]
        feats = self.backbone.extract(image)
        ref = self.backbone.extract(ref_image) if ref_image is not None else None
        return feats, ref

    def visual(
        self,
        feats: list[torch.Tensor],
        ref_feats: list[torch.Tensor | None] | None = None,
        return_attention: bool = False,
        close_gate: bool = False,
        size: int | None = None,
    ) -> VisualFeatures:
        """The query's visual features as fusion reads them: aligned, and for RES variants
        enriched by the retrieved image (Eq. 1–2). They do not depend on the expression, so
        one call serves any number of expressions (:meth:`decode`).

        ``close_gate``: switch the enrichment off, V_l' = V_l^in at every level, as if every
        gate were 0 (what the answer owes to the neighbour, docs/design.md §7); the retrieved
        image is then not read. The baseline has no enrichment and ignores both. ``size``: the
        input side S (default: 4 × V2's side, V2 being at stride 4)."""
        size = size or feats[0].shape[-1] * 4
        grid = size // 8
        # the levels stay at their native grids (the fusion upsamples after its 1×1 conv,
        # BilinearFusion) unless RES enriches on the common grid (enrich_native=False)
        common = self.enrich is not None and not self.cfg.enrich_native
        v2, v_low = self.backbone.align(feats, grid, resize=False)
        v_low = self._levels(v_low, grid, common)
        attention, gates = [], []
        if self.enrich is not None and not close_gate:  # RES, Eq. 1–2
            if ref_feats is None:
                raise ValueError(
                    f"variant {self.cfg.variant!r} needs the retrieved image (ref_image)"
                )
            _, r_low = self.backbone.align(ref_feats, grid, resize=False)
            r_low = self._levels(r_low, grid, common)
            enriched = []
            for enrich, v, r in zip(self.enrich, v_low, r_low):
                v, a, g = enrich(v, r, return_attention)
                enriched.append(v)
                gates.append(g)
                if a is not None:
                    attention.append(a)
            v_low = enriched
        return VisualFeatures(v2, v_low, size, attention, gates)

    def _levels(self, low: list[torch.Tensor], grid: int, common: bool) -> list[torch.Tensor]:
        """[V3, V4, V5] at their native grids → through the visual adapter when there is one
        (one module for both images: siamese), then onto the common grid when RES enriches
        there. The adapter runs at the native grids in every variant, so growing a network
        that has one (baseline → full) keeps what it computes."""
        if self.adapter is not None:
            low = self.adapter(low)
        return self.backbone.to_grid(low, grid) if common else low

    def decode(
        self,
        vis: VisualFeatures,
        tokens: torch.Tensor,
        lengths: torch.Tensor,
        text_states: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> TVNetOutput:
        """Ground the expression (tokens B×T, lengths B) in the visual features: fusion + gate
        (Eq. 3), ConvLSTM, AMF or Cct (Eq. 4–5), head. ``vis`` holds B images, or one that
        every expression shares (expanded here). ``text_states``: the text transformer's
        output for these tokens (``HFTokenEncoder.states``), when the caller computed it
        already (``hf_tokens`` models only)."""
        v2, v_low = vis.v2, vis.v_low
        B = tokens.shape[0]
        if v2.shape[0] != B:
            if v2.shape[0] != 1:
                raise ValueError(f"{v2.shape[0]} images for {B} expressions")
            v2 = v2.expand(B, *v2.shape[1:])
            v_low = [v.expand(B, *v.shape[1:]) for v in v_low]
        grid = vis.size // 8
        if text_states is None:
            _, s, _ = self.text(tokens, lengths)  # s: B×d_s
        else:
            _, s, _ = self.text(tokens, lengths, states=text_states)
        o = spatial_features(B, grid, grid, device=v2.device, dtype=v2.dtype)
        ms = [fuse(v, o, s) for fuse, v in zip(self.fusion, v_low)]  # Eq. 3, first line
        for gate in self.gate:  # Eq. 3, second line
            ms = gate(ms, s)
        m_fine = self.convlstm(ms)  # B×d_m×h×w

        a2 = None
        hr = v2.shape[-2:]
        if self.amf is not None:  # Eq. 4–5
            m_out, a2 = self.amf(m_fine, v2)
        elif self.cct is not None:
            m_out = self.cct(m_fine, v2)
        else:
            m_out = up2(m_fine, hr)
        logits_low = self.head(m_out)  # B×1×2h×2w
        aux = [head(m) for head, m in zip(self.aux, ms)] if self.training else []
        return TVNetOutput(logits_low, vis.size, vis.attention, vis.gates, a2, aux)

    def forward(
        self,
        tokens: torch.Tensor,
        lengths: torch.Tensor,
        image: torch.Tensor | None = None,
        ref_image: torch.Tensor | None = None,
        feats: list[torch.Tensor] | None = None,
        ref_feats: list[torch.Tensor | None] | None = None,
        return_attention: bool | None = None,
        close_gate: bool = False,
        text_states: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> TVNetOutput:
        """tokens B×T, lengths B; image/ref_image B×3×S×S or their backbone features.

        ``return_attention`` (default: not training) materialises every A_l for inspection;
        ``close_gate`` switches the enrichment off (:meth:`visual`); ``text_states``: see
        :meth:`decode`."""
        if return_attention is None:
            return_attention = not self.training
        uses_ref = self.enrich is not None and not close_gate
        if feats is None:
            if image is None:
                raise ValueError("TVNet needs an image or its backbone features")
            if uses_ref and ref_feats is None:
                feats, ref_feats = self.features(image, ref_image)
            else:
                feats, _ = self.features(image)
        elif uses_ref and ref_feats is None and ref_image is not None:
            ref_feats = self.backbone.extract(ref_image)
        size = image.shape[-1] if image is not None else None
        vis = self.visual(
            feats, ref_feats if uses_ref else None, return_attention, close_gate, size
        )
        return self.decode(vis, tokens, lengths, text_states)
