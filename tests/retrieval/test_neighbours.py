"""tvnet/retrieval/neighbours.py and retriever.py, `tvnet pool` and `tvnet eval` on a split without a neighbour table."""

from __future__ import annotations

import copy
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tvnet.config import K_TEXT
from tvnet.data.refer import open_refer
from tvnet.retrieval.encoders import pool_encoders
from tvnet.retrieval.image_encoder import ImageEncoder
from tvnet.retrieval.neighbours import (
    NEIGHBOUR_COLUMNS,
    build_pool,
    neighbour_table,
    neighbours_path,
    read_neighbours,
    write_neighbour_table,
    write_neighbours,
)
from tvnet.retrieval.pool import DataPool, PoolMismatchError, pool_manifest
from tvnet.retrieval.retriever import Neighbour, Retriever
from tvnet.retrieval.text_encoder import TextEncoder

COLOURS = {
    "red": (220, 30, 30),
    "green": (30, 200, 60),
    "blue": (30, 60, 220),
    "yellow": (230, 220, 40),
}
SHAPES = ["square", "circle", "star"]


def _scene(rng, colour):
    im = np.full((48, 64, 3), rng.integers(0, 256, 3), np.uint8)
    y, x = rng.integers(4, 24), rng.integers(4, 36)
    im[y : y + 20, x : x + 24] = COLOURS[colour]
    return im


def write_tiny_refer(root, n_train=12, n_val=4, seed=0):
    """A minimal refer-format dataset: refs(unc).json, instances.json, images/*.png.

    Each image holds one coloured block with 2 expressions about it (3 for every third image).
    """
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    images, anns, refs, sent_id = [], [], [], 0
    for i in range(n_train + n_val):
        colour = list(COLOURS)[i % len(COLOURS)]
        shape = SHAPES[i % len(SHAPES)]
        Image.fromarray(_scene(rng, colour)).save(root / "images" / f"img_{i}.png")
        images.append({"id": 1000 + i, "file_name": f"img_{i}.png", "height": 48, "width": 64})
        anns.append({"id": 5000 + i, "image_id": 1000 + i, "category_id": 1, "bbox": [0, 0, 8, 8]})
        texts = [f"the {colour} {shape}", f"{shape} that is {colour}", f"a {colour} thing"][
            : 2 + (i % 3 == 0)
        ]
        sents = []
        for t in texts:
            sents.append({"sent_id": sent_id, "sent": t, "raw": t, "tokens": t.split()})
            sent_id += 1
        refs.append(
            {
                "ref_id": 200 + i,
                "ann_id": 5000 + i,
                "image_id": 1000 + i,
                "category_id": 1,
                "split": "train" if i < n_train else "val",
                "sent_ids": [s["sent_id"] for s in sents],
                "sentences": sents,
                "file_name": f"img_{i}.png",
            }
        )
    instances = {
        "info": {"dataset": "tinyref"},
        "images": images,
        "annotations": anns,
        "categories": [{"id": 1, "name": "shape"}],
    }
    (root / "instances.json").write_text(json.dumps(instances))
    (root / "refs(unc).json").write_text(json.dumps(refs))
    return root


@pytest.fixture(scope="module")
def refer(tmp_path_factory):
    return open_refer(write_tiny_refer(tmp_path_factory.mktemp("tinyref")))


@pytest.fixture(scope="module")
def encoders():
    # fp32 on every CPU: the tables encode each image once and the checks below encode one per
    # sample, so in bf16 other batches could round a near-tie the other way
    return TextEncoder(), ImageEncoder(input_size=64, amp=False)


@pytest.fixture(scope="module")
def pool(refer, encoders):
    return build_pool(refer, "train", *encoders, progress=False)


def test_pool_of_split(refer, pool, encoders):
    n = len(refer.samples("train"))
    assert len(pool) == n and len(pool.images) == len(refer.image_ids("train"))
    assert pool.index_type == "exact"
    assert pool.manifest["dataset"] == {"name": "tinyref", "split": "train"}
    assert pool.manifest["text_encoder"] == {"name": encoders[0].name, "dim": 384}
    assert pool.manifest["image_encoder"] == {"name": encoders[1].name, "dim": 1280}
    assert pool.meta["sample_id"].tolist() == [s.sample_id for s in refer.samples("train")]


@pytest.mark.parametrize("split", ["train", "val"])
def test_neighbour_table_covers_every_sample(refer, pool, encoders, split, tmp_path):
    samples = refer.samples(split)
    df = neighbour_table(refer, split, pool, *encoders, progress=False)
    assert tuple(df.columns) == NEIGHBOUR_COLUMNS
    assert df["sample_id"].tolist() == [s.sample_id for s in samples]
    assert df["neighbour_sample_id"].notna().all()
    own = np.array([s.image_id for s in samples])
    assert (df["neighbour_image_id"].to_numpy() != own).all()
    by_id = {s.sample_id: s for s in refer.samples("train")}
    for _, r in df.iterrows():  # the neighbour is a real pool sample, described consistently
        nb = by_id[int(r["neighbour_sample_id"])]
        assert nb.image_id == r["neighbour_image_id"] and nb.sentence == r["neighbour_sentence"]

    # Same answer as encoding the queries afresh and searching (the train table reads its
    # vectors back from the exact pool instead).
    text = encoders[0].encode([s.sentence for s in samples])
    image = encoders[1].encode([refer.load_image(s.image_id) for s in samples])
    idx, img_score = pool.search(text, image, own)
    np.testing.assert_array_equal(
        df["neighbour_sample_id"].to_numpy(), pool.meta["sample_id"].to_numpy()[idx]
    )
    np.testing.assert_allclose(df["image_score"], img_score, atol=1e-4)

    path = write_neighbours(df, tmp_path / "nb.parquet")
    pd.testing.assert_frame_equal(read_neighbours(path), df)
    assert read_neighbours(path, k_text=K_TEXT).attrs["k_text"] == K_TEXT


def test_a_table_of_another_k_text_is_refused_by_a_model_that_retrieves_otherwise(
    refer, pool, encoders, tmp_path
):
    """k_text=1 is pure text retrieval: other neighbours than the model's k_text would pick."""
    df = neighbour_table(refer, "val", pool, *encoders, k_text=1, progress=False)
    path = write_neighbours(df, tmp_path / "nb1.parquet")
    assert read_neighbours(path, k_text=1)["sample_id"].tolist() == df["sample_id"].tolist()
    with pytest.raises(ValueError, match=r"k_text=1 text candidates.*--k-text 20"):
        read_neighbours(path, k_text=20)
    df.attrs.pop("k_text")  # a table written before the number was recorded passes
    assert len(read_neighbours(write_neighbours(df, tmp_path / "old.parquet"), k_text=20))


def test_neighbour_files_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="tvnet pool neighbours"):
        read_neighbours(tmp_path / "none.parquet")
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "x.parquet")
    with pytest.raises(ValueError, match="not a neighbour table"):
        read_neighbours(tmp_path / "x.parquet")


def test_retriever_one_call(refer, pool, encoders):
    r = Retriever(pool, *encoders)
    s = refer.samples("val")[0]
    out = r.neighbour(refer.load_image(s.image_id), s.sentence)
    assert isinstance(out, Neighbour) and out.found and out.image is None
    cands = out.candidates
    assert out.index == cands.loc[cands["chosen"], "index"].item()
    assert out.sample_id == pool.meta["sample_id"].iloc[out.index]
    assert out.sentence == cands["sentence"].iloc[0] and out.image_id == cands["image_id"].iloc[0]
    assert (out.text_score, out.image_score) == pytest.approx(
        (cands["text_score"].iloc[0], cands["image_score"].iloc[0])
    )
    assert len(cands) == min(20, len(pool)) and cands["rank"].tolist() == list(
        range(1, len(cands) + 1)
    )
    # an upload that is a pool image never gets that image back when excluded
    t = refer.samples("train")[0]
    out = r.neighbour(refer.load_image(t.image_id), t.sentence, exclude_image_id=t.image_id)
    assert out.image_id != t.image_id and (out.candidates["image_id"] != t.image_id).all()
    assert out.own_image_id is None  # excluded by the caller, not recognised
    # ... and unasked: the retriever recognises the upload as that pool image and leaves it out
    own = r.neighbour(refer.load_image(t.image_id), t.sentence)
    assert own.own_image_id == t.image_id and own.index == out.index
    assert (own.candidates["image_id"] != t.image_id).all()
    assert r.neighbour(refer.load_image(s.image_id), s.sentence).own_image_id is None  # val
    # a chosen entry is the same type, its scores NaN
    chosen = Neighbour.from_pool(pool, 3)
    assert (chosen.index, chosen.sample_id) == (3, pool.meta["sample_id"].iloc[3])
    assert chosen.sentence == pool.meta["sentence"].iloc[3] and chosen.candidates is None
    assert np.isnan(chosen.text_score) and np.isnan(chosen.image_score)
    # a pool with no eligible entry: index -1, nothing else, empty candidates
    meta = pd.DataFrame({"sample_id": [1, 2], "image_id": [7, 7], "sentence": ["a", "b"]})
    lone = DataPool.from_embeddings(
        np.eye(2, 384), np.eye(2, 1280), [7, 7], meta, pool_manifest(*encoders)
    )
    none = Retriever(lone, *encoders).neighbour(refer.load_image(t.image_id), "a", 7)
    assert none.index == -1 and not none.found and none.candidates.empty
    assert none.sentence is None and none.sample_id is None and none.image_score is None
    # a pool built with another image encoder is refused
    other = copy.copy(pool)
    other.manifest = {
        **pool.manifest,
        "image_encoder": {"name": "timm:vgg16@vgg16.pth@224px", "dim": 1280},
    }
    with pytest.raises(PoolMismatchError, match="vgg16"):
        Retriever(other, *encoders)


def test_cli_build_and_neighbours(refer, tmp_path, capsys):
    from tvnet.cli import main

    data = refer.root
    out = tmp_path / "pool"
    assert (
        main(
            ["pool", "build", "--data", str(data), "--split", "train", "--out", str(out), "--exact"]
        )
        == 0
    )
    pool = DataPool.load(out, expect_manifest=pool_manifest(dataset="tinyref", split="train"))
    assert len(pool) == len(refer.samples("train"))
    assert (
        main(["pool", "neighbours", "--data", str(data), "--split", "val", "--pool", str(out)]) == 0
    )
    df = read_neighbours(out / "neighbours_tinyref_val.parquet")
    assert len(df) == len(refer.samples("val"))
    assert "neighbours written" in capsys.readouterr().out
    # another folder of the same dataset name, one pool sentence different: its neighbours
    # cannot come from this pool (their images would be read from that folder), and the
    # table this folder wrote is kept
    other = tmp_path / "other"
    shutil.copytree(data, other)
    refs = json.loads((other / "refs(unc).json").read_text())
    first = next(r for r in refs if r["split"] == "train")
    first["sentences"][0]["sent"] = "the purple hexagon"
    (other / "refs(unc).json").write_text(json.dumps(refs))
    table, before = out / "neighbours_tinyref_val.parquet", df
    argv = ["pool", "neighbours", "--data", str(other), "--split", "val", "--pool", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "was built from another dataset folder" in err and "the purple hexagon" not in err
    pd.testing.assert_frame_equal(read_neighbours(table), before)
    # a missing pool is a clear CLI error, not a traceback
    assert (
        main(
            [
                "pool",
                "neighbours",
                "--data",
                str(data),
                "--split",
                "val",
                "--pool",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "pool folder not found" in capsys.readouterr().err


def test_pool_encoders_need_bundled_names_or_recorded_files():
    """Without the files a manifest records (pools built before it recorded them, or by hand)
    only the bundled encoders load; tests/retrieval/test_encoder_sources.py has the rest."""
    lite0 = "timm:tf_efficientnet_lite0@imagenet-package@224px"
    for text, image in [
        ("hf:distilbert-base-uncased", lite0),  # a local folder, its path not recorded
        ("all-MiniLM-L6-v2", "timm:vgg16@vgg16.pth@224px"),  # a weights file, likewise
        ("all-MiniLM-L6-v2", "timm:tf_efficientnet_lite0@random@224px"),  # not reproducible
    ]:
        man = {"text_encoder": {"name": text}, "image_encoder": {"name": image}}
        with pytest.raises(ValueError, match="tvnet pool neighbours"):
            pool_encoders(man)


def test_eval_writes_a_missing_neighbour_table(tiny_synthref, tmp_path, capsys):
    """`tvnet eval` on a split whose table is missing writes it (with a progress bar), the
    same table `tvnet pool neighbours` writes, then evaluates."""
    from tests.conftest import save_tiny_model
    from tvnet import load_dump
    from tvnet.cli import main

    refer = tiny_synthref["refer"]
    pool = tmp_path / "pool"
    shutil.copytree(tiny_synthref["pool"], pool)
    table = neighbours_path(pool, refer.name, "val")
    table.unlink()
    ckpt = save_tiny_model(refer, "full", tmp_path / "ckpt")
    args = ["eval", "--checkpoint", str(ckpt), "--data", str(tiny_synthref["data"])]
    args += ["--split", "val", "--pool", str(pool), "--out", str(tmp_path / "d")]
    assert main([*args, "--limit", "4", "--no-amp", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    assert "no neighbour table" in out and f"neighbours written to {table}" in out
    assert "search pool" in err  # the progress bar of the search
    pd.testing.assert_frame_equal(
        read_neighbours(table),
        read_neighbours(neighbours_path(tiny_synthref["pool"], refer.name, "val")),
    )
    dump = load_dump(tmp_path / "d")
    assert len(dump.samples) == 4 and dump.samples["neighbour_image_id"].notna().all()
    # the table is there now: a second run reads it and writes nothing
    mtime = table.stat().st_mtime_ns
    assert main([*args, "--limit", "2", "--no-amp", "--device", "cpu", "--quiet"]) == 0
    assert "no neighbour table" not in capsys.readouterr().out
    assert table.stat().st_mtime_ns == mtime


def test_a_pool_of_a_held_out_split_or_another_dataset_writes_no_table(refer, encoders, tmp_path):
    """The pool is the training split (the paper's): a val pool's ids are all this folder's,
    so only its manifest can say it would bring held-out images into training and evaluation."""
    val_pool = build_pool(refer, "val", *encoders, progress=False)
    val_pool.save(tmp_path / "valpool")
    with pytest.raises(ValueError, match=r"built from the 'val' split of tinyref.*--split train"):
        write_neighbour_table(refer, "train", tmp_path / "valpool", *encoders, progress=False)
    assert not list((tmp_path / "valpool").glob("neighbours_*"))
    # research may ask for it
    df, path = write_neighbour_table(
        refer, "train", tmp_path / "valpool", *encoders, progress=False, any_split=True
    )
    assert path.is_file() and df["neighbour_sample_id"].notna().all()
    # another dataset's name (another split scheme of the same folder): refused too
    train_pool = build_pool(refer, "train", *encoders, progress=False)
    train_pool.manifest["dataset"]["name"] = "tinyref_google"
    train_pool.save(tmp_path / "otherpool")
    with pytest.raises(ValueError, match=r"built from tinyref_google, not tinyref"):
        write_neighbour_table(refer, "val", tmp_path / "otherpool", *encoders, progress=False)


def test_pool_neighbours_refuses_a_folder_as_out_before_any_encoding(
    tiny_synthref, tmp_path, capsys
):
    """`--out` names the parquet file; a folder there (as `pool build --out POOL` takes) is
    refused at once, not after the split was encoded and searched."""
    from tvnet.cli import main

    (tmp_path / "here").mkdir()
    argv = ["pool", "neighbours", "--data", str(tiny_synthref["data"]), "--split", "val"]
    argv += ["--pool", str(tiny_synthref["pool"]), "--out", str(tmp_path / "here")]
    assert main(argv) == 2
    assert "is a folder: name the parquet file to write" in capsys.readouterr().err
    assert list((tmp_path / "here").iterdir()) == []
    # a file of a pool, or any file that is not a neighbour table: refused, left as it was
    pool_copy = tmp_path / "pool"
    shutil.copytree(tiny_synthref["pool"], pool_copy)
    meta = pool_copy / "meta.parquet"
    before = meta.read_bytes()
    notes = tmp_path / "notes.parquet"
    notes.write_bytes(b"my notes")
    for out, said in ((meta, "is a file of the pool in"), (notes, "is not a neighbour table")):
        argv[-1] = str(out)
        assert main(argv) == 2
        assert said in capsys.readouterr().err
    assert meta.read_bytes() == before and notes.read_bytes() == b"my notes"


def test_a_sample_whose_pool_holds_only_its_own_image_gets_no_neighbour(encoders, tmp_path):
    """A train split of one image (three expressions): its pool has no other image, so each
    of its samples gets nulls (never pool row 0, its own image), in nullable dtypes that
    survive the parquet file; val samples find that image."""
    refer = open_refer(write_tiny_refer(tmp_path / "one", n_train=1, n_val=2))
    pool = build_pool(refer, "train", *encoders, progress=False)
    df = neighbour_table(refer, "train", pool, *encoders, progress=False)
    assert len(df) == 3
    for c in ("neighbour_sample_id", "neighbour_image_id", "neighbour_sentence"):
        assert df[c].isna().all(), c
    assert str(df["neighbour_image_id"].dtype) == "Int64"
    assert str(df["neighbour_sentence"].dtype) == "string"
    assert np.isnan(df["text_score"].to_numpy(np.float64)).all()
    assert np.isnan(df["image_score"].to_numpy(np.float64)).all()
    df.to_parquet(tmp_path / "t.parquet")
    back = pd.read_parquet(tmp_path / "t.parquet")
    assert (
        str(back["neighbour_image_id"].dtype) == "Int64" and back["neighbour_image_id"].isna().all()
    )
    val = neighbour_table(refer, "val", pool, *encoders, progress=False)
    assert (val["neighbour_image_id"] == refer.image_ids("train")[0]).all()
