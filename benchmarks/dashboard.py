"""Time the dashboard's data path on a generated dump of 100,000 rows (goal: < 2 s on 2 cores).

    .venv/bin/python benchmarks/dashboard.py            # 100,000 rows
    .venv/bin/python benchmarks/dashboard.py --rows 20000 --keep /tmp/bigdump

Measures, each as the median of ``--repeat`` runs after one warm-up:
  load      — ``load_dumps`` of the folder (parquet → pandas, validation), all columns;
  overview  — what the overview and size pages compute: Table 1 per split, Table 3, the
              per-size-bucket table, Figure 7's numbers, Prec@X curves and IoU histograms;
  total     — load + overview (what a cold dashboard pays before its first table);
  app       — the overview page rendered by Streamlit's AppTest, cold (empty cache) and warm
              (cached on the files' mtimes), when --app is given.

What a person waits for in a browser (server, script run and the page drawn) is timed by
benchmarks/dashboard_browser.py (Playwright + Chromium, cold and warm first views).

The dump has realistic, unique RLE strings: every row is a (gt, pred) pair of boxes on a
240–400 px image whose runs are encoded with pycocotools, so the parquet file has the size and
string content of a real evaluation dump (no dictionary encoding shortcut).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine import cpu_model  # noqa: E402  (benchmarks/machine.py, this folder)

from analysis import figures, tables  # noqa: E402
from tvnet.eval.dump import load_dumps  # noqa: E402
from tvnet.eval.dump_writer import DumpWriter  # noqa: E402
from tvnet.eval.metrics import iou_counts, sample_iou, size_bin  # noqa: E402
from tvnet.eval.rle import decode_rle  # noqa: E402


def _rect_rle(h: int, w: int, y0: int, y1: int, x0: int, x1: int) -> str:
    """COCO RLE counts string of the rectangle [y0, y1) × [x0, x1), built from its runs."""
    from pycocotools import mask as mask_utils

    if y1 <= y0 or x1 <= x0:
        runs = [h * w]
    else:
        dy = y1 - y0
        runs = [x0 * h + y0]
        for _ in range(x0, x1 - 1):
            runs += [dy, h - dy]
        runs += [dy, (h - y1) + (w - x1) * h]
    return mask_utils.frPyObjects({"counts": runs, "size": [h, w]}, h, w)["counts"].decode("ascii")


def _rects(rng: np.random.Generator, n: int, h: np.ndarray, w: np.ndarray) -> np.ndarray:
    """n random boxes (y0, y1, x0, x1): side 2–60 % of the image, so all size bins occur."""
    sy = np.maximum(1, (rng.uniform(0.02, 0.6, n) * h).astype(int))
    sx = np.maximum(1, (rng.uniform(0.02, 0.6, n) * w).astype(int))
    y0 = (rng.random(n) * (h - sy)).astype(int)
    x0 = (rng.random(n) * (w - sx)).astype(int)
    return np.stack([y0, y0 + sy, x0, x0 + sx], axis=1)


def make_dump(
    out: Path, rows: int, variant: str = "full", split: str = "val", seed: int = 0
) -> Path:
    """A dump with ``rows`` unique (gt, pred) rectangle pairs on 240–400 px images."""
    rng = np.random.default_rng(seed)
    h = rng.integers(240, 401, rows)
    w = rng.integers(240, 401, rows)
    gt = _rects(rng, rows, h, w)
    # prediction = the box with jittered edges (5 % of the time: nothing predicted)
    jitter = (
        rng.normal(0, 0.12, (rows, 4)) * np.repeat(gt[:, 1::2] - gt[:, 0::2], 2, axis=1)
    ).astype(int)
    pred = gt + jitter
    pred[:, 0:2] = np.clip(pred[:, 0:2], 0, h[:, None])
    pred[:, 2:4] = np.clip(pred[:, 2:4], 0, w[:, None])
    pred[rng.random(rows) < 0.05] = 0

    def area(b):
        return np.maximum(0, b[:, 1] - b[:, 0]) * np.maximum(0, b[:, 3] - b[:, 2])

    inner = np.stack(
        [np.maximum(gt[:, 0], pred[:, 0]), np.minimum(gt[:, 1], pred[:, 1]),
         np.maximum(gt[:, 2], pred[:, 2]), np.minimum(gt[:, 3], pred[:, 3])], axis=1
    )  # fmt: skip
    inter = area(inner)
    union = area(gt) + area(pred) - inter
    frac = area(gt) / (h * w)
    run_info = {"variant": variant, "split": split, "dataset": {"name": "bench", "data_dir": None}}
    with DumpWriter(out, run_info, chunk_rows=8192) as writer:
        batch = []
        for k in range(rows):
            hk, wk = int(h[k]), int(w[k])
            batch.append(
                dict(
                    sample_id=k,
                    ref_id=k // 2,
                    sent_id=k,
                    image_id=k // 4,
                    sentence=f"the {['red', 'blue', 'green'][k % 3]} box number {k}",
                    inter=int(inter[k]),
                    union=int(union[k]),
                    iou=sample_iou(int(inter[k]), int(union[k])),
                    gt_area_frac=float(frac[k]),
                    size_bin=size_bin(float(frac[k])),
                    height=hk,
                    width=wk,
                    pred_rle=_rect_rle(hk, wk, *(int(v) for v in pred[k])),
                    gt_rle=_rect_rle(hk, wk, *(int(v) for v in gt[k])),
                    neighbour_image_id=int((k * 7) % rows),
                    neighbour_sentence="a similar box",
                    neighbour_score=0.5,
                    variant=variant,
                    split=split,
                )
            )
            if len(batch) == 8192:
                writer.write_rows(batch)
                batch = []
        writer.write_rows(batch)
    return out


def overview(samples) -> dict:
    """Everything the overview + size pages compute from the rows."""
    out = {}
    for (dataset, split), g in samples.groupby(["dataset", "split"]):
        out[("table1", dataset, split)] = tables.table1(g)
        out[("sizes", dataset, split)] = tables.size_table(g)
        out[("curve", dataset, split)] = figures.prec_curve(g)
        out[("hist", dataset, split)] = figures.iou_histogram(g)
    out["table3"] = tables.table3(samples)
    out["fig7"] = tables.size_distribution(
        samples.drop_duplicates(["dataset", "split", "sample_id"])
    )
    return out


def _median_time(fn, repeat: int) -> tuple[float, object]:
    result = fn()  # warm-up (imports, page cache)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=100_000, help="rows in the generated dump")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per figure (median)")
    p.add_argument("--keep", type=Path, help="write the dump here and keep it (default: temp)")
    p.add_argument(
        "--app", action="store_true", help="also time the Streamlit overview page (AppTest)"
    )
    args = p.parse_args(argv)

    tmp = tempfile.TemporaryDirectory()
    root = args.keep or Path(tmp.name) / "dumps"
    dump_dir = root / "full_val"
    t0 = time.perf_counter()
    if not (dump_dir / "samples.parquet").exists():
        make_dump(dump_dir, args.rows)
    gen_s = time.perf_counter() - t0
    size_mb = (dump_dir / "samples.parquet").stat().st_size / 2**20

    load_s, (dumps, errors) = _median_time(lambda: load_dumps(root), args.repeat)
    assert not errors and len(dumps[0].samples) == args.rows, errors
    # the generator is right: I and U of a few rows recompute from their RLE masks
    df = dumps[0].samples
    for r in df.sample(20, random_state=0).itertuples():
        got = iou_counts(
            decode_rle(r.pred_rle, r.height, r.width), decode_rle(r.gt_rle, r.height, r.width)
        )
        assert got == (r.inter, r.union), (got, r.inter, r.union)
    samples = tables.concat_samples(dumps, tables.NEEDED_COLUMNS + ("sample_id",))
    over_s, result = _median_time(lambda: overview(samples), args.repeat)
    total_s, _ = _median_time(
        lambda: overview(tables.concat_samples(load_dumps(root)[0])), args.repeat
    )

    print(f"rows: {args.rows:,}  parquet: {size_mb:.1f} MiB  (generated in {gen_s:.1f} s)")
    print(
        f"cpu: {cpu_model()}, {os.cpu_count()} cores visible, torch not imported: {'torch' not in sys.modules}"
    )
    print(f"load (load_dumps, all columns):   {load_s * 1000:8.1f} ms")
    print(f"overview (tables + curve data):   {over_s * 1000:8.1f} ms")
    print(f"total (load + overview):          {total_s * 1000:8.1f} ms   goal < 2000 ms")
    t1 = result[("table1", "bench", "val")]
    print(
        f"check: oIoU {t1[('All', 'oIoU')].iloc[0]:.2f} %, mIoU {t1[('All', 'mIoU')].iloc[0]:.2f} %"
    )

    if args.app:
        from streamlit.testing.v1 import AppTest

        app = str(Path(__file__).resolve().parents[1] / "apps" / "dashboard" / "app.py")
        at = AppTest.from_file(app, default_timeout=120)
        at.session_state["dumps_dir"] = str(root)
        t0 = time.perf_counter()
        at.run()
        cold = time.perf_counter() - t0
        assert not at.exception, at.exception
        t0 = time.perf_counter()
        at.run()
        warm = time.perf_counter() - t0
        print(f"app overview page, cold (AppTest): {cold * 1000:8.1f} ms")
        print(f"app overview page, warm (cached):  {warm * 1000:8.1f} ms")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
