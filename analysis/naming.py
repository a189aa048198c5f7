"""Which run a dump is, and what its rows are called in tables (docs/design.md §5; §8, "A
row's name says its recipe").

A dump is one evaluation of one checkpoint on one split. Tables name its rows by the variant
and how it was made or scored (:attr:`tvnet.eval.dump.Dump.name`), with the training budget
where a dataset holds several (:func:`row_keys`), and with a tag that its val and test dumps
share where a name holds several runs (seeds: :func:`row_names`). Two dumps of one checkpoint
scored alike on one split are one evaluation found twice, not two runs: :func:`unique_dumps`
leaves the repeat out before anything is pooled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["distinct_labels", "unique_dumps", "row_keys", "row_names", "run_names", "run_tag"]

_SPLIT_SEPARATORS = "-_./ "  # "res-240k-val", "full_val", "seed1/val": the split ends a label


def distinct_labels(dumps: Iterable[Any]) -> list[Any]:
    """``dumps`` as a list, each labelled apart: a label that two of them share (the same
    folder name under two roots, or two dumps loaded one by one) becomes each one's path,
    numbered if even that repeats. The labels change on the dumps themselves, so the row
    names :func:`analysis.tables.concat_samples` gives and the ``run`` that
    :func:`analysis.tables.training_table` looks up stay one."""
    dumps = list(dumps)
    shared = {k for k, n in Counter(d.label for d in dumps).items() if n > 1}
    for d in dumps:
        if d.label in shared:
            d.label = str(d.path)
    seen: Counter = Counter()
    for d in dumps:
        seen[d.label] += 1
        if seen[d.label] > 1:
            d.label = f"{d.label} #{seen[d.label]}"
    return dumps


def _fullness(d: Any) -> tuple[int, int]:
    """(rows, columns holding anything): of two evaluations alike, the one to keep is the
    fuller (a whole split over a part, the influence columns over a dump without them)."""
    return len(d.samples), int(d.samples.notna().any().sum())


def unique_dumps(dumps: Iterable[Any]) -> tuple[list[Any], list[tuple[Path, str]]]:
    """``dumps`` without the repeats of one evaluation, in their order, and (path, why) for
    each one left out.

    A repeat is a dump of the same checkpoint (its weights' hash) scored the same way
    (:attr:`~tvnet.eval.dump.Dump.name`: mirror averaging, protocol, words as written, a
    subset) with the same pool on the same dataset and split as another: a copy under a
    second folder, say, or a re-evaluation at another precision. Pooled, it would count as a
    second seed. The fuller stays (more rows, then more columns holding anything; the first
    of equals); a dump that records no hash repeats only a dump of the same folder."""
    dumps = list(dumps)
    kept: dict[tuple, Any] = {}
    left: list[tuple[Any, Any]] = []  # (left out, the one kept)
    for d in dumps:
        ckpt = d.checkpoint_hash
        key = (
            # the pool too: a RES checkpoint read with another pool's neighbours is scored anew
            (d.dataset_name, d.split, d.name, ckpt, str(d.run.get("pool")))
            if ckpt
            else ("folder", str(Path(d.path).resolve()))
        )
        other = kept.get(key)
        if other is None:
            kept[key] = d
        elif _fullness(d) > _fullness(other):
            kept[key] = d
            left.append((other, d))
        else:
            left.append((d, other))
    stay = {id(d) for d in kept.values()}
    why = []
    for d, other in left:
        ckpt = d.checkpoint_hash
        what = f"checkpoint {ckpt[:12]}…, " if ckpt else ""
        why.append(
            (
                Path(d.path),
                f"{d.path}: the same evaluation as {other.path} ({what}{d.split}, scored "
                "alike), left out so that it does not count as another run",
            )
        )
    return [d for d in dumps if id(d) in stay], why


def run_tag(d: Any) -> str:
    """The part of a dump's label that its other splits share: ``"res-240k"`` for
    ``"res-240k-val"``, ``"seed1/full"`` for ``"seed1/full_test"``; the label itself where it
    does not end in its split."""
    label, split = str(d.label), str(d.split)
    if split and len(label) > len(split) + 1 and label.endswith(split):
        if label[-len(split) - 1] in _SPLIT_SEPARATORS:
            return label[: -len(split) - 1]
    return label


def row_names(dumps: Iterable[Any], keys: list[tuple[str, str, str]] | None = None) -> list[str]:
    """Each dump's row name (the first list of :func:`run_names`)."""
    return run_names(dumps, keys)[0]


def run_names(
    dumps: Iterable[Any], keys: list[tuple[str, str, str]] | None = None
) -> tuple[list[str], list[str]]:
    """Each dump's row name, as :func:`analysis.tables.concat_samples` names its rows'
    ``variant``, and the name its rows pool under with other runs' as seeds (their
    ``base_variant``).

    The row name is the name of :func:`row_keys`, tagged in brackets where that name holds
    more than one run on the dataset (seeds, say), on every split alike so that a run's rows
    keep one name. A run is a checkpoint (its weights' hash; for a dump that records none, its
    :func:`run_tag`); its tag is the :func:`run_tag` its dumps share ("[seed1/full-240k]"),
    else its hash's first digits. Two dumps of one run and split (one checkpoint scored with
    two pools, say, or one evaluation found twice, which :func:`unique_dumps` would have left
    out) keep their labels, and are no seeds of the name: each pools under its own row name,
    alone. Labels as in :func:`distinct_labels`; ``keys``: their :func:`row_keys` when the
    caller has them."""
    dumps = distinct_labels(dumps)
    keys = row_keys(dumps) if keys is None else keys
    tags = [run_tag(d) for d in dumps]
    idents = [d.checkpoint_hash or f"tag:{tag}" for d, tag in zip(dumps, tags)]
    runs: dict[tuple[str, str], dict[str, set]] = {}  # (dataset, name) → run → its tags
    for (dataset, _, name), ident, tag in zip(keys, idents, tags):
        runs.setdefault((dataset, name), {}).setdefault(ident, set()).add(tag)
    per_split = Counter(zip(keys, idents))
    out, pooled = [], []
    for d, key, ident in zip(dumps, keys, idents):
        dataset, _, name = key
        of_name = runs[dataset, name]
        if per_split[key, ident] > 1:  # the same run twice on one split: no seed of the name
            out.append(f"{name} [{d.label}]")
            pooled.append(out[-1])
            continue
        if len(of_name) == 1:
            out.append(name)
        else:
            tags = of_name[ident]
            tag = next(iter(tags))
            shared = sum(tag in t for t in of_name.values()) > 1
            out.append(f"{name} [{tag if len(tags) == 1 and not shared else _short(ident, d)}]")
        pooled.append(name)
    return out, pooled


def _short(ident: str, d: Any) -> str:
    """A run's tag when its dumps share none: its hash's first digits, else the label."""
    return f"weights {ident[:8]}" if not ident.startswith("tag:") else str(d.label)


def row_keys(dumps: list[Any]) -> list[tuple[str, str, str]]:
    """(dataset, split, name with its budget where it must say it) per dump: runs of one name
    trained for different budgets are different recipes, so when a dataset holds a name of
    several budgets, every name there whose budget is recorded says it (over all splits, so
    that a run keeps one name)."""
    keys = [(d.dataset_name, d.split, d.name) for d in dumps]
    budgets: dict[tuple[str, str], set] = {}  # over splits: a run keeps one name
    for d, (dataset, _, name) in zip(dumps, keys):
        budgets.setdefault((dataset, name), set()).add(d.budget)
    # once a dataset has a name of several budgets, every name there says its budget
    several = {dataset for (dataset, _), b in budgets.items() if len(b) > 1}
    return [
        (dataset, split, _with_budget(name, d.budget))
        if len(budgets[dataset, name]) > 1 or (dataset in several and d.budget is not None)
        else (dataset, split, name)
        for d, (dataset, split, name) in zip(dumps, keys)
    ]


def _with_budget(name: str, n: int | None) -> str:
    """``"full (160k samples)"``; ``"full (mirror averaged, 240k samples)"`` for a name that
    says already how it was made or scored."""
    if name.endswith(")") and " (" in name:
        return f"{name[:-1]}, {samples_text(n)})"
    return f"{name} ({samples_text(n)})"


def samples_text(n: int | None) -> str:
    """A training budget in a row name: ``"160k samples"``, ``"1500k samples"``, ``"1,500
    samples"``, exact; thousands without a separator, so that
    :func:`analysis.tables.variant_key` compares them as one number."""
    if n is None:
        return "budget not recorded"
    return f"{n // 1000}k samples" if n % 1000 == 0 else f"{n:,} samples"
