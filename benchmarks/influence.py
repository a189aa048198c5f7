"""Latency of the influence methods of the Predictor (docs/design.md §7, "Influence").

    python benchmarks/influence.py [--checkpoint DIR] [--runs 5] [--threads 2] [--no-amp]
                                   [--candidates 20] [--no-recent-images] [--mirror]

Loads the bundled model (default) once, then on SynthRef test scenes times one answer, the
neighbour's influence (gate closed) as a rerun, the answer with its closed-gate twin decoded
in the same pass (``gate_closed=True``, what the demo asks for) and that answer's influence,
each of the candidate table's neighbours (``--candidates`` of them) and the word influence of
a 12-word expression; prints the median of each in ms with the CPU, the thread count and the
precision (the goal of the word influence: ≈ 1–2 s on 2 cores). Both answers see a new image
(the Predictor's memory of recent images emptied first); the influence calls follow an answer
on the same image, as in the demo, and reuse its backbone maps unless ``--no-recent-images``.
``--mirror``: every answer and influence mirror-averaged, as the demo's checkbox asks for them.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from machine import cpu_model  # benchmarks/machine.py: scripts run from this folder


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--checkpoint", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-amp", action="store_true")
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument(
        "--no-recent-images",
        action="store_true",
        help="Predictor(recent_images=0): every call runs the backbone",
    )
    ap.add_argument(
        "--mirror",
        action="store_true",
        help="every answer mirror-averaged and every influence measured between such answers "
        "(the demo's Mirror averaging checkbox)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from tvnet import Predictor
    from tvnet.amp import precision
    from tvnet.data.synthref import make_scene

    p = Predictor.from_checkpoint(
        args.checkpoint,
        device="cpu",
        amp=not args.no_amp,
        recent_images=0 if args.no_recent_images else 32,
    )
    print(
        f"{cpu_model()}, {args.threads} threads, {precision('cpu', not args.no_amp)}, "
        f"{p.variant} ({p.info['checkpoint']}), runtime {p.info['runtime']}, recent images kept "
        f"{p.recent_images.entries}, mirror averaged {args.mirror}"
    )
    m = args.mirror
    expression = "the small green star left of the big red circle on top"  # 12 words
    times: dict[str, list[float]] = {
        "answer": [],
        "neighbour": [],
        "answer+gate_closed": [],
        "neighbour from it": [],
        "candidates": [],
        "words": [],
    }
    for i in range(args.runs + 1):  # the first run warms up and is not counted
        scene = make_scene(0, "test", 200 + i)
        img = scene.image
        p.recent_images.clear()
        t = time.perf_counter()
        pred = p(img, expression, mirror=m)
        lap = {"answer": time.perf_counter() - t}
        t = time.perf_counter()
        p.neighbour_influence(img, expression, pred=pred)
        lap["neighbour"] = time.perf_counter() - t
        p.recent_images.clear()  # a first answer, as the demo asks for it
        t = time.perf_counter()
        both = p(img, expression, gate_closed=True, mirror=m)
        lap["answer+gate_closed"] = time.perf_counter() - t
        t = time.perf_counter()
        p.neighbour_influence(img, expression, pred=both)
        lap["neighbour from it"] = time.perf_counter() - t
        if p.retriever is not None:
            idx = pred.neighbour.candidates["index"].tolist()[: args.candidates]
            t = time.perf_counter()
            p.candidate_influence(img, expression, idx, pred=pred)
            lap["candidates"] = time.perf_counter() - t
        t = time.perf_counter()
        words = p.word_influence(img, expression, mirror=m)
        lap["words"] = time.perf_counter() - t
        if i:
            for k, v in lap.items():
                times[k].append(v)
    n = len(words)
    for k, v in times.items():
        if v:
            what = {"candidates": f" ({args.candidates} neighbours)", "words": f" ({n} words)"}
            print(f"{k + what.get(k, ''):26s} median {1000 * statistics.median(v):7.0f} ms")


if __name__ == "__main__":
    main()
