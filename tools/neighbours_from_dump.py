"""Rebuild the neighbour table a dump was evaluated with, from the dump's own rows.

    python tools/neighbours_from_dump.py assets/dumps/full-val runs/pool-full [--pool assets/pool]

Re-evaluating a shipped checkpoint (to add dump columns) should feed the network the same
neighbours as the recorded run, so that its metrics stay comparable: retrieval on another CPU
picks a different neighbour for about 5 % of SynthRef's samples (bf16 rounding in the image
encoder; docs/experiments.md, 2026-12-02 "Calibrated confidence"). Each RES dump records its
neighbour's image, sentence and image score per row; this writes them as the table
``tvnet eval`` reads (``POOL/neighbours_<dataset>_<split>.parquet``) in a copy of the pool
(the text score, which evaluation does not read, is NaN).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from tvnet.assets import default_assets


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dump", type=Path, help="a RES dump folder")
    p.add_argument("out_pool", type=Path, help="pool folder to write (a copy of --pool)")
    p.add_argument(
        "--pool",
        type=Path,
        default=default_assets()["pool"],
        help="the pool evaluated on (default: the bundled pool, $TVNET_ASSETS/pool or assets/pool)",
    )
    args = p.parse_args(argv)
    import numpy as np  # here: --help stays fast
    import pandas as pd

    from tvnet.eval.dump import load_dump
    from tvnet.retrieval.neighbours import neighbours_path, write_neighbours
    from tvnet.retrieval.pool_files import META as POOL_META

    dump = load_dump(args.dump)
    df = dump.samples
    if df["neighbour_image_id"].isna().any():
        raise SystemExit(f"{args.dump}: rows without a neighbour (a baseline dump?)")
    if not args.out_pool.is_dir():
        shutil.copytree(args.pool, args.out_pool)
    meta = pd.read_parquet(args.out_pool / POOL_META)
    key = {
        (int(i), str(s)): int(sid)
        for i, s, sid in zip(meta.image_id, meta.sentence, meta.sample_id)
    }
    nb_sample = [
        key.get((int(i), str(s))) for i, s in zip(df.neighbour_image_id, df.neighbour_sentence)
    ]
    if any(x is None for x in nb_sample):
        raise SystemExit(f"{args.dump}: some neighbours are not in the pool {args.pool}")
    table = pd.DataFrame(
        {
            "sample_id": df["sample_id"].to_numpy(),
            "neighbour_sample_id": pd.array(nb_sample, dtype="Int64"),
            "neighbour_image_id": pd.array(df["neighbour_image_id"].astype(int), dtype="Int64"),
            "neighbour_sentence": pd.array(df["neighbour_sentence"], dtype="string"),
            "text_score": np.full(len(df), np.nan, np.float32),
            "image_score": df["neighbour_score"].to_numpy(np.float32),
        }
    )
    k_text = (dump.run.get("config") or {}).get("retrieval_k_text")
    if k_text is not None:  # the number the dump's model retrieves with, as tvnet eval records
        table.attrs["k_text"] = int(k_text)
    name = dump.dataset.get("name") or "synthref"
    path = write_neighbours(table, neighbours_path(args.out_pool, name, dump.split))
    print(f"{len(table)} neighbours of {name}/{dump.split} from {args.dump} → {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
