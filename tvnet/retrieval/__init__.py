"""RES stage 1 (docs/design.md §1): the data pool, its neighbour tables and the retriever.

Public names: :class:`DataPool` (the two-stage searchable pool, :func:`pool_manifest`,
:class:`PoolMismatchError`), :class:`Retriever` (the neighbour of a new upload) and
:class:`Neighbour` (the one type of a retrieved neighbour), the encoders
(:class:`TextEncoder`, :class:`ImageEncoder`) and the offline tables (:func:`build_pool`,
:func:`neighbour_table`, :func:`write_neighbour_table`, :func:`ensure_neighbour_table`,
:func:`read_neighbours`, :func:`neighbours_path`).

Imported lazily: ``import tvnet.retrieval`` loads neither faiss nor torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

_POOL = ("DataPool", "PoolMismatchError", "pool_manifest")
_RETRIEVER = ("Neighbour", "Retriever")
_NEIGHBOURS = (
    "build_pool",
    "neighbour_table",
    "write_neighbour_table",
    "ensure_neighbour_table",
    "read_neighbours",
    "write_neighbours",
    "neighbours_path",
)
__all__ = [
    "DataPool",
    "PoolMismatchError",
    "pool_manifest",
    "Neighbour",
    "Retriever",
    "build_pool",
    "neighbour_table",
    "write_neighbour_table",
    "ensure_neighbour_table",
    "read_neighbours",
    "write_neighbours",
    "neighbours_path",
    "TextEncoder",
    "ImageEncoder",
]

if TYPE_CHECKING:  # pragma: no cover
    from tvnet.retrieval.image_encoder import ImageEncoder
    from tvnet.retrieval.neighbours import (
        build_pool,
        ensure_neighbour_table,
        neighbour_table,
        neighbours_path,
        read_neighbours,
        write_neighbour_table,
        write_neighbours,
    )
    from tvnet.retrieval.pool import DataPool, PoolMismatchError, pool_manifest
    from tvnet.retrieval.retriever import Neighbour, Retriever
    from tvnet.retrieval.text_encoder import TextEncoder


def __getattr__(name: str) -> Any:
    if name in _POOL:
        from tvnet.retrieval import pool

        return getattr(pool, name)
    if name in _RETRIEVER:
        from tvnet.retrieval import retriever

        return getattr(retriever, name)
    if name in _NEIGHBOURS:
        from tvnet.retrieval import neighbours

        return getattr(neighbours, name)
    if name == "TextEncoder":
        from tvnet.retrieval.text_encoder import TextEncoder

        return TextEncoder
    if name == "ImageEncoder":
        from tvnet.retrieval.image_encoder import ImageEncoder

        return ImageEncoder
    raise AttributeError(f"module 'tvnet.retrieval' has no attribute {name!r}")
