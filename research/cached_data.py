"""Shared set-up of the research scripts that train small models on TV-Net's cached features.

from cached_data import cached_splits   # scripts in research/ run with it on sys.path
"""

from __future__ import annotations

from tvnet import build_model
from tvnet.data.refer import open_refer
from tvnet.data.tokenize import Vocab
from tvnet.loader.batches import BatchLoader, SplitTable
from tvnet.loader.features import FeatureCache


def cached_splits(data: str, cache_root: str, splits=("train", "val"), **overrides):
    """(refer, tv, tables, loaders): the dataset, an untrained ``cpu`` baseline TV-Net (its
    frozen backbone, GloVe rows and text encoder; ``overrides`` change the preset, e.g.
    ``input_size``), and per split the sample table and a batch loader that reads backbone
    features from the cache (built on first use)."""
    refer = open_refer(data)
    vocab = Vocab.build(s.sentence for s in refer.samples("train"))
    tv = build_model("cpu", "baseline", vocab=vocab, **{"text_encoder": "glove_lstm", **overrides})
    cache = FeatureCache(cache_root, tv.backbone, refer, tv.cfg.input_size, tv.cfg.output_stride)
    tables, loaders = {}, {}
    for split in splits:
        cache.ensure(split)
        tables[split] = SplitTable.for_model(refer, split, tv, None)
        loaders[split] = BatchLoader(refer, tables[split], tv.cfg.input_size, False, cache)
    return refer, tv, tables, loaders
