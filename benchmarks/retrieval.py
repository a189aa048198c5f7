"""RES data pool at scale (issue 5): build time, memory, latency, agreement with exact search.

    python benchmarks/retrieval.py                 # 1,000,000 entries, 384-d text, 1280-d image
    python benchmarks/retrieval.py --n 200000      # smaller run
    python benchmarks/retrieval.py --index hnsw    # the other approximate index

Synthetic, clustered data (not trivially easy): text vectors are noisy members of Zipf-sized
topic clusters whose centres themselves group into super-topics, so text neighbourhoods overlap;
image vectors come from image clusters that follow the text topic half of the time. Queries
are half new uploads (nothing excluded), half pool members with their own image excluded
(the neighbour-table case).

Reference = exact two-stage search in numpy (float32 matrix products over every entry, then
image re-ranking of the exact text top-20). Agreement = share of queries whose final neighbour
is the same entry. Latency and memory are measured in a fresh process that loads the saved
pool, as a server would: RSS after loading, peak RSS (VmHWM) after all queries.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from machine import cpu_model  # benchmarks/machine.py: scripts run from this folder


def _rss() -> tuple[float, float]:
    """(current, peak) resident set size in MiB, from /proc."""
    vals = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            vals[line.split(":")[0]] = int(line.split()[1]) / 1024
    return vals.get("VmRSS", float("nan")), vals.get("VmHWM", float("nan"))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def make_data(n: int, d_t: int, d_i: int, exprs_per_image: int, n_queries: int, seed: int):
    """Pool (text fp32 N×d_t, image fp16 U×d_i per distinct image, image id per entry) and
    queries (text, image, exclude id)."""
    rng = np.random.default_rng(seed)
    n_topics = max(10, n // 200)
    n_super = max(2, n_topics // 20)
    super_c = _unit(rng.normal(size=(n_super, d_t)).astype(np.float32))
    topics = _unit(
        super_c[rng.integers(0, n_super, n_topics)] + 0.9 * _unit(rng.normal(size=(n_topics, d_t)))
    )
    topics = topics.astype(np.float32)
    p = 1.0 / np.arange(1, n_topics + 1) ** 0.8  # Zipf-ish topic sizes
    p /= p.sum()
    n_img = -(-n // exprs_per_image)
    img_c = _unit(rng.normal(size=(n_topics, d_i)).astype(np.float32))

    def text_of(labels, r):
        noise = _unit(r.normal(size=(len(labels), d_t)).astype(np.float32))
        return _unit(topics[labels] + 1.1 * noise).astype(np.float32)

    def image_of(labels, r):
        follow = r.random(len(labels)) < 0.5
        lab = np.where(follow, labels, r.integers(0, n_topics, len(labels)))
        noise = _unit(r.normal(size=(len(labels), d_i)).astype(np.float32))
        return _unit(img_c[lab] + 1.2 * noise)

    img_topic = rng.choice(n_topics, n_img, p=p)
    image_ids = np.repeat(np.arange(n_img), exprs_per_image)[:n]
    text = np.empty((n, d_t), np.float32)
    image = np.empty((n_img, d_i), np.float16)
    chunk = 100_000
    for s in range(0, n, chunk):
        text[s : s + chunk] = text_of(img_topic[image_ids[s : s + chunk]], rng)
    for s in range(0, n_img, chunk):
        image[s : s + chunk] = image_of(img_topic[s : s + chunk], rng)
    # queries: half new uploads, half pool members (own image excluded)
    half = n_queries // 2
    q_topic = rng.choice(n_topics, n_queries - half, p=p)
    members = rng.choice(n, half, replace=False)
    tq = np.concatenate([text_of(q_topic, rng), text[members]])
    iq = np.concatenate(
        [image_of(q_topic, rng).astype(np.float32), image[image_ids[members]].astype(np.float32)]
    )
    ex = np.concatenate([np.full(n_queries - half, -1), image_ids[members]]).astype(np.int64)
    return text, image, image_ids, tq, iq, ex


def exact_numpy(text, image, image_ids, tq, iq, ex, k_text=20, chunk=131_072):
    """Exact two-stage search by brute force: Q×N text cosines in chunks, exact top-k_text
    (own image excluded), image re-rank. Returns chosen entry per query."""
    nq, n = len(tq), len(text)
    keep = k_text + int(np.bincount(image_ids).max())  # enough to survive the exclusion
    best_s = np.full((nq, 0), -np.inf, np.float32)
    best_i = np.zeros((nq, 0), np.int64)
    for s in range(0, n, chunk):
        sc = tq @ text[s : s + chunk].T  # Q×chunk
        k = min(keep, sc.shape[1])
        part = np.argpartition(-sc, k - 1, axis=1)[:, :k]
        best_s = np.concatenate([best_s, np.take_along_axis(sc, part, 1)], 1)
        best_i = np.concatenate([best_i, part + s], 1)
        if best_s.shape[1] > keep:
            top = np.argpartition(-best_s, keep - 1, axis=1)[:, :keep]
            best_s, best_i = np.take_along_axis(best_s, top, 1), np.take_along_axis(best_i, top, 1)
    out = np.full(nq, -1, np.int64)
    for q in range(nq):
        order = np.lexsort((best_i[q], -best_s[q]))  # text score desc, then id
        cand = [c for c in best_i[q][order] if image_ids[c] != ex[q]][:k_text]
        sims = image[image_ids[cand]].astype(np.float32) @ iq[q]
        out[q] = cand[int(np.argmax(sims))]
    return out


def _time_queries(pool, tq, iq, ex, runs_single: int, batch: int) -> dict:
    for i in range(min(20, len(tq))):  # warm-up
        pool.search(tq[i : i + 1], iq[i : i + 1], ex[i : i + 1])
    single = []
    for i in range(min(runs_single, len(tq))):
        t = time.perf_counter()
        pool.search(tq[i : i + 1], iq[i : i + 1], ex[i : i + 1])
        single.append((time.perf_counter() - t) * 1000)
    batched = []
    for s in range(0, len(tq) - batch + 1, batch):
        t = time.perf_counter()
        pool.search(tq[s : s + batch], iq[s : s + batch], ex[s : s + batch])
        batched.append((time.perf_counter() - t) * 1000 / batch)
    idx, _ = pool.search(tq, iq, ex)
    return dict(
        single_ms_median=float(np.median(single)),
        single_ms_p90=float(np.percentile(single, 90)),
        batched_ms_per_query_median=float(np.median(batched)),
        indices=idx.tolist(),
    )


def serve(
    pool_dir: str, queries: str, threads: int, runs_single: int, batch: int, sweep: list[int]
) -> None:
    """Child process: load the pool, time queries, report memory. Prints one JSON line."""
    import faiss

    from tvnet.retrieval.pool import DataPool

    faiss.omp_set_num_threads(threads)
    rss0, _ = _rss()
    t0 = time.perf_counter()
    pool = DataPool.load(pool_dir)
    load_s = time.perf_counter() - t0
    rss_loaded, _ = _rss()
    z = np.load(queries)
    tq, iq, ex = z["tq"], z["iq"], z["ex"]
    res = _time_queries(pool, tq, iq, ex, runs_single, batch)
    swept = {}
    if pool.index_type == "ivf":
        default = pool.manifest["index"]["nprobe"]
        for nprobe in sweep:
            pool.manifest["index"]["nprobe"] = nprobe
            swept[nprobe] = _time_queries(pool, tq, iq, ex, runs_single, batch)
        pool.manifest["index"]["nprobe"] = default
    rss_end, hwm = _rss()
    print(
        json.dumps(
            dict(
                load_s=load_s,
                rss_base_mib=rss0,
                rss_loaded_mib=rss_loaded,
                rss_end_mib=rss_end,
                peak_rss_mib=hwm,
                pool=repr(pool),
                sweep=swept,
                **res,
            )
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=1_000_000, help="pool entries (default: %(default)s)")
    ap.add_argument("--d-text", type=int, default=384)
    ap.add_argument("--d-image", type=int, default=1280)
    ap.add_argument(
        "--exprs-per-image",
        type=int,
        default=1,
        help="1 = every entry its own image (worst case for memory)",
    )
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--index", default="ivf", choices=("exact", "ivf", "hnsw"))
    ap.add_argument("--nprobe", type=int, default=None, help="override the ivf default")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=100, help="queries per batched call")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--sweep",
        type=int,
        nargs="*",
        default=[],
        metavar="NPROBE",
        help="also time these ivf nprobe values",
    )
    ap.add_argument("--serve", nargs=2, metavar=("POOL", "QUERIES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(
            *args.serve, threads=args.threads, runs_single=200, batch=args.batch, sweep=args.sweep
        )
        return

    import faiss
    import pandas as pd

    from tvnet.retrieval.pool import DataPool

    faiss.omp_set_num_threads(args.threads)
    print(f"cpu: {cpu_model()}; text vectors fp32 (faiss), image vectors as the store keeps them")
    print(
        f"pool: {args.n:,} entries, text {args.d_text}-d, image {args.d_image}-d, "
        f"{args.exprs_per_image} expression(s) per image; {args.queries} queries; "
        f"index={args.index}; threads={args.threads}"
    )
    t = time.perf_counter()
    text, image, image_ids, tq, iq, ex = make_data(
        args.n, args.d_text, args.d_image, args.exprs_per_image, args.queries, args.seed
    )
    meta = pd.DataFrame(
        {
            "sample_id": np.arange(args.n),
            "image_id": image_ids,
            "sentence": [f"expr {i}" for i in range(args.n)],
        }
    )
    print(f"data generated in {time.perf_counter() - t:.1f} s")

    params = {"nprobe": args.nprobe} if args.nprobe and args.index == "ivf" else None
    t = time.perf_counter()
    pool = DataPool.from_embeddings(
        text,
        image,
        image_ids,
        meta,
        index=args.index,
        image_emb_ids=np.arange(len(image)),
        index_params=params,
    )
    build_s = time.perf_counter() - t
    print(f"build: {build_s:.1f} s  {pool!r}  index params {pool.manifest['index']}")
    print(f"index bytes (text index + image store + ids): {pool.nbytes() / 2**20:.0f} MiB")

    # exact numpy brute force: all queries batched, then a few single queries, on --threads
    # threads like faiss (numpy's BLAS would take every core of a larger machine)
    try:  # installed with sentence-transformers (scikit-learn's dependency)
        from threadpoolctl import threadpool_limits

        limited = threadpool_limits(limits=args.threads)
    except ImportError:
        import contextlib

        limited = contextlib.nullcontext()
        print("note: no threadpoolctl: the numpy baseline runs on every core BLAS takes")
    with limited:
        t = time.perf_counter()
        ref = exact_numpy(text, image, image_ids, tq, iq, ex)
        np_batched_ms = (time.perf_counter() - t) * 1000 / len(tq)
        np_single = []
        for i in range(5):
            t = time.perf_counter()
            exact_numpy(text, image, image_ids, tq[i : i + 1], iq[i : i + 1], ex[i : i + 1])
            np_single.append((time.perf_counter() - t) * 1000)
    np_single_ms = float(np.median(np_single))

    with tempfile.TemporaryDirectory(prefix="tvnet_bench_") as tmp:
        t = time.perf_counter()
        pool.save(Path(tmp) / "pool")
        save_s = time.perf_counter() - t
        np.savez(Path(tmp) / "queries.npz", tq=tq, iq=iq, ex=ex)
        del pool, text, image, meta
        cmd = [
            sys.executable,
            __file__,
            "--serve",
            str(Path(tmp) / "pool"),
            str(Path(tmp) / "queries.npz"),
            "--threads",
            str(args.threads),
            "--batch",
            str(args.batch),
            "--sweep",
            *map(str, args.sweep),
        ]
        env = dict(
            os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads)
        )
        res = json.loads(
            subprocess.run(
                cmd, check=True, capture_output=True, text=True, env=env
            ).stdout.splitlines()[-1]
        )
    got = np.asarray(res["indices"])
    agree = float((got == ref).mean())
    own = float((image_ids[got] == ex).mean())
    print(f"save: {save_s:.1f} s   load (fresh process): {res['load_s']:.1f} s")
    print(
        f"memory (serving process): RSS {res['rss_loaded_mib'] / 1024:.2f} GiB after load, "
        f"{res['rss_end_mib'] / 1024:.2f} GiB after queries, peak {res['peak_rss_mib'] / 1024:.2f} GiB "
        f"(interpreter + libraries alone: {res['rss_base_mib']:.0f} MiB)"
    )
    print(
        f"latency pool.search:  single query median {res['single_ms_median']:.2f} ms "
        f"(p90 {res['single_ms_p90']:.2f}),  batched {res['batched_ms_per_query_median']:.3f} ms/query "
        f"(batches of {args.batch})"
    )
    print(
        f"latency exact numpy:  single query median {np_single_ms:.1f} ms,  batched {np_batched_ms:.2f} ms/query"
    )
    print(
        f"speed-up vs exact numpy: single {np_single_ms / res['single_ms_median']:.0f}x, "
        f"batched {np_batched_ms / res['batched_ms_per_query_median']:.0f}x"
    )
    print(f"agreement of the final neighbour with exact search: {agree:.3f} ({len(got)} queries)")
    print(f"own image returned: {own:.3f}")
    for nprobe, r in res["sweep"].items():
        a = float((np.asarray(r["indices"]) == ref).mean())
        print(
            f"  nprobe {nprobe:>4}: agreement {a:.3f}, single {r['single_ms_median']:.2f} ms, "
            f"batched {r['batched_ms_per_query_median']:.3f} ms/query"
        )
    goals = [
        ("single-query median ≤ 5 ms", res["single_ms_median"] <= 5),
        ("agreement ≥ 0.95", agree >= 0.95),
        ("peak RSS ≤ 2 GiB", res["peak_rss_mib"] <= 2048),
    ]
    print("goals: " + ", ".join(f"{g}: {'PASS' if ok else 'FAIL'}" for g, ok in goals))


if __name__ == "__main__":
    main()
