"""Writing the evaluation dump of docs/design.md §5 (the format and its reader:
:mod:`tvnet.eval.dump`).

:class:`DumpWriter` streams rows into a temporary folder next to ``DIR`` and renames it onto
``DIR`` at :meth:`DumpWriter.close`, so a crash mid-evaluation never leaves a dump that looks
complete; :func:`check_dump_target` refuses a ``DIR`` that a dump must not replace.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tvnet.eval.dump import (
    COLUMNS,
    FORMAT_VERSION,
    OPTIONAL_COLUMNS,
    RUN_FILE,
    SAMPLES_FILE,
    SCHEMA,
    DumpError,
    load_dump,
    nan_to_none,
)
from tvnet.eval.metrics import aggregate
from tvnet.io import atomic_write_json, check_replaceable_dir, fsync_file, replace_dir

__all__ = ["DumpWriter", "check_dump_target", "update_dump"]


def check_dump_target(dir: str | os.PathLike) -> Path:
    """Refuse an output path that a dump must not replace: a file, or a folder that holds
    something other than a dump (a folder of dumps, a checkpoint); see
    :func:`tvnet.io.check_replaceable_dir`."""
    files = (RUN_FILE, SAMPLES_FILE)
    return check_replaceable_dir(dir, files, "dump", DumpError, only=files)


class DumpWriter:
    """Streams dump rows to ``DIR/samples.parquet`` and writes ``DIR/run.json`` at the end.

    Rows are buffered and flushed every ``chunk_rows`` rows through a pyarrow
    ``ParquetWriter`` (one row group per chunk), so memory does not grow with the split.
    Everything goes to a hidden temporary folder beside ``DIR`` (beside its target when
    ``DIR`` is a symbolic link, which stays one); :meth:`close` renames it
    onto ``DIR`` (replacing an older dump there), :meth:`abort` removes it. Used as a context
    manager, an exception aborts and a normal exit closes::

        with DumpWriter(out, {"config": ..., "dataset": {"name": ..., "data_dir": ...}}) as w:
            evaluator = RISEvaluator(variant, split, dump=w)
            ...
            w.close(metrics=evaluator.evaluate(), timings={...})
    """

    def __init__(
        self,
        dir: str | os.PathLike,
        run_info: Mapping[str, Any] | None = None,
        chunk_rows: int = 4096,
    ) -> None:
        self.dir = check_dump_target(dir)
        self.run_info: dict[str, Any] = dict(run_info or {})
        self.chunk_rows = int(chunk_rows)
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(
            tempfile.mkdtemp(prefix=f".{self.dir.name}.", suffix=".tmp", dir=self.dir.parent)
        )
        self._writer: pq.ParquetWriter | None = None
        self._buffer: dict[str, list[Any]] = {c: [] for c in COLUMNS}
        self._buffered = 0
        self.rows_written = 0
        self._t0 = time.perf_counter()
        self.closed = False

    @property
    def tmp_dir(self) -> Path:
        return self._tmp

    def write_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append rows (mappings with the keys of :data:`COLUMNS`; extra keys are an error)."""
        if self.closed:
            raise RuntimeError(f"dump {self.dir} is already closed")
        for row in rows:
            extra = set(row) - set(COLUMNS)
            if extra:
                raise ValueError(
                    f"unknown dump column(s) {sorted(extra)}; expected {list(COLUMNS)}"
                )
            for c in COLUMNS:
                self._buffer[c].append(row.get(c))
            self._buffered += 1
            if self._buffered >= self.chunk_rows:
                self._flush()

    def _flush(self) -> None:
        if self._buffered == 0 and self._writer is not None:
            return
        table = pa.Table.from_pydict(self._buffer, schema=SCHEMA)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp / SAMPLES_FILE, SCHEMA, compression="zstd")
        self._writer.write_table(table)
        self.rows_written += self._buffered
        self._buffer = {c: [] for c in COLUMNS}
        self._buffered = 0

    def close(self, metrics: Mapping[str, Any] | None = None, **run_updates: Any) -> Path:
        """Finish the parquet file, write ``run.json`` and move the dump to ``DIR``.

        ``metrics`` defaults to :func:`tvnet.eval.metrics.aggregate` of the written rows;
        ``run_updates`` are merged into ``run_info`` (e.g. ``timings=...``).
        """
        if self.closed:
            return self.dir
        try:
            self._flush()
            assert self._writer is not None
            self._writer.close()
            self._writer = None
            fsync_file(self._tmp / SAMPLES_FILE)
            if metrics is None:
                rows = pq.read_table(
                    self._tmp / SAMPLES_FILE, columns=["inter", "union", "iou", "size_bin"]
                )
                metrics = aggregate(rows.to_pandas())
            run = {**self.run_info, **run_updates}
            run["metrics"] = dict(metrics)
            run["n_samples"] = self.rows_written
            run["format_version"] = FORMAT_VERSION
            run.setdefault("timings", {})
            if isinstance(run["timings"], dict):
                run["timings"] = {**run["timings"], "dump_write_s": time.perf_counter() - self._t0}
            # NaN (an empty size bucket) is not JSON; write null
            atomic_write_json(self._tmp / RUN_FILE, nan_to_none(run))
            self._install()
        except BaseException:
            self.abort()
            raise
        self.closed = True
        return self.dir

    def _install(self) -> None:
        replace_dir(self._tmp, self.dir)

    def abort(self) -> None:
        """Drop everything written so far; ``DIR`` is left as it was."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        shutil.rmtree(self._tmp, ignore_errors=True)
        self.closed = True

    def __enter__(self) -> DumpWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif not self.closed:
            self.close()


def update_dump(
    dir: str | os.PathLike,
    columns: Mapping[str, Any],
    run_updates: Mapping[str, Any] | None = None,
) -> Path:
    """Set optional columns of an existing dump (e.g. ``confidence`` once the model is
    calibrated: a function of the row's ``score``), row for row, and merge ``run_updates`` into
    its run.json. The rest of the file is kept as it is (older dumps gain the columns they
    lack); both files are replaced atomically (samples first, so a crash between the two
    leaves new rows with the old run.json)."""
    from tvnet.io import atomic_path

    dump = load_dump(dir)
    path = dump.path / SAMPLES_FILE
    bad = [c for c in columns if c not in OPTIONAL_COLUMNS]
    if bad:
        raise ValueError(f"only optional columns can be updated, not {bad}")
    table = pq.read_table(path)
    n = table.num_rows
    for name, values in columns.items():
        values = list(values)
        if len(values) != n:
            raise ValueError(f"{len(values)} values of {name!r} for {n} rows")
        col = pa.array(values, type=SCHEMA.field(name).type)
        if name in table.schema.names:
            table = table.set_column(table.schema.get_field_index(name), name, col)
        else:
            table = table.append_column(pa.field(name, col.type), col)
    with atomic_path(path) as tmp:  # flushed to disk before the rename
        pq.write_table(table, tmp, compression="zstd")
    if run_updates:
        atomic_write_json(dump.path / RUN_FILE, nan_to_none({**dump.run, **run_updates}))
    return dump.path
