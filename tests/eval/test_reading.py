"""tvnet.eval.reading and `tvnet eval`: expressions read as tvnet.Predictor reads them."""

import json
import shutil

import pandas as pd

from tests.conftest import save_tiny_model
from tvnet.cli import main as cli_main
from tvnet.data.lexicon import Lexicon
from tvnet.data.refer import open_refer
from tvnet.data.tokenize import Vocab
from tvnet.eval.dump import load_dump
from tvnet.eval.reading import read_split

SAMPLE = 31  # "the orange shape" in tiny_synthref's val split (seed 3)


def _copy(tiny, tmp_path, name, sentence):
    """tiny_synthref's data with val sample SAMPLE saying ``sentence``, and a pool copy
    without a val neighbour table (tvnet eval writes it for this data)."""
    data = tmp_path / name / "data"
    shutil.copytree(tiny["data"], data)
    refs_file = next(data.glob("refs(*).json"))
    refs = json.loads(refs_file.read_text())
    for r in refs:
        for s in r["sentences"]:
            if s["sent_id"] == SAMPLE:
                s["sent"] = s["raw"] = sentence
                s["tokens"] = sentence.split()
    refs_file.write_text(json.dumps(refs))
    pool = tmp_path / name / "pool"
    shutil.copytree(tiny["pool"], pool)
    for table in pool.glob("neighbours_*_val.parquet"):
        table.unlink()
    return data, pool


def test_read_split_rewrites_only_unknown_words(tiny_synthref, tmp_path):
    data, _ = _copy(tiny_synthref, tmp_path, "a", "the crimson shape")
    refer = open_refer(data)
    vocab = Vocab.build(s.sentence for s in refer.samples("train"))
    assert "red" in vocab.words and "crimson" not in vocab.words
    assert Lexicon.of(vocab.words[2:]).nearest("crimson") == "red"  # the premise
    reading = read_split(refer, "val", vocab, {})
    assert reading.lexicon and reading.read_as[SAMPLE] == "the red shape"
    assert reading.rewrites[("crimson", "red")] == 1
    known = set(vocab.words)
    for s in refer.samples("val"):  # only expressions with a word the model never saw change
        if all(w in known for w in s.sentence.split()):
            assert s.sample_id not in reading.read_as, s.sentence
        elif s.sample_id in reading.read_as:
            assert reading.read_as[s.sample_id] != s.sentence
    summary = reading.summary(8, top=50)
    assert summary["rewritten"] == len(reading.read_as) and summary["of"] == 8
    assert ["crimson", "red", 1] in summary["top_rewrites"]
    # --limit: only the first expressions are read anew
    first = read_split(refer, "val", vocab, {}, limit=3)
    assert set(first.read_as) <= {s.sample_id for s in refer.samples("val")[:3]}
    assert first.read_as and SAMPLE not in first.read_as
    # a model that records no known words reads as written, and says so
    none = read_split(refer, "val", None, {})
    assert not none.lexicon and none.read_as == {} and "no known words" in none.note


def test_an_overlong_expression_is_cut_as_the_predictor_cuts_it(tiny_synthref, tmp_path):
    from tvnet.data.tokenize import MAX_CHARS, cut_at_word

    long = "the orange shape " + "which is right there " * 30  # 647 characters
    data, _ = _copy(tiny_synthref, tmp_path, "long", long.strip())
    refer = open_refer(data)
    vocab = Vocab.build(s.sentence for s in refer.samples("train"))
    want = cut_at_word(long.strip(), MAX_CHARS)
    assert len(want) <= MAX_CHARS < len(long.strip())
    # a model that records no known words reads the cut text as written
    assert read_split(refer, "val", None, {}).read_as[SAMPLE] == want
    # with a lexicon, the cut text is what it rewrites, as in Predictor.read_expression
    reading = read_split(refer, "val", vocab, {})
    assert reading.read_as[SAMPLE] == Lexicon.of(vocab.words[2:]).rewrite(want)[0]


def test_eval_reads_an_unseen_word_as_the_predictor_does(tiny_synthref, tmp_path):
    """A val copy saying "crimson" where the model knows "red", evaluated as read, scores row
    for row as a copy saying "red" evaluated as written (same tokens, same neighbour retrieved
    again with the text as read); --literal records no rewrite."""
    ckpt = save_tiny_model(tiny_synthref["refer"], "full", tmp_path / "ckpt")
    dumps = {}
    for name, sentence, literal in (
        ("unseen", "the crimson shape", False),
        ("known", "the red shape", False),
        ("unseen-literal", "the crimson shape", True),
    ):
        data, pool = _copy(tiny_synthref, tmp_path, name, sentence)
        out = tmp_path / name / "dump"
        args = ["eval", "--checkpoint", str(ckpt), "--data", str(data), "--split", "val"]
        args += ["--pool", str(pool), "--out", str(out), "--no-amp", "--quiet", "--seed", "0"]
        assert cli_main(args + (["--literal"] if literal else [])) == 0
        dumps[name] = load_dump(out)
    unseen = dumps["unseen"].samples.set_index("sample_id")
    known = dumps["known"].samples.set_index("sample_id")
    literal = dumps["unseen-literal"].samples.set_index("sample_id")
    assert unseen.loc[SAMPLE, "sentence"] == "the crimson shape"  # as written …
    assert unseen.loc[SAMPLE, "read_as"] == "the red shape"  # … and as read
    assert pd.isna(known.loc[SAMPLE, "read_as"])  # "red" is known: read as written
    others = unseen.index != SAMPLE  # the other rewrites (words the tiny vocabulary lacks) agree
    pd.testing.assert_series_equal(unseen.loc[others, "read_as"], known.loc[others, "read_as"])
    cols = ["inter", "union", "pred_rle", "neighbour_image_id", "neighbour_sentence", "score"]
    pd.testing.assert_frame_equal(unseen[cols], known[cols])
    assert literal["read_as"].isna().all()
    reading = dumps["unseen"].run["reading"]
    assert reading["lexicon"] and not reading["literal"]
    assert (
        reading["rewritten"]
        == unseen["read_as"].notna().sum()
        == known["read_as"].notna().sum() + 1
    )
    assert dumps["unseen-literal"].run["reading"] == {"lexicon": False, "literal": True}
    # --limit: the reading covers the rows evaluated, no more
    data, pool = tmp_path / "unseen" / "data", tmp_path / "unseen" / "pool"
    args = ["eval", "--checkpoint", str(ckpt), "--data", str(data), "--split", "val"]
    out = tmp_path / "limited"
    assert cli_main(args + ["--pool", str(pool), "--out", str(out), "--quiet", "--limit", "3"]) == 0
    limited = load_dump(out)
    assert len(limited.samples) == 3 and limited.run["reading"]["of"] == 3
    assert limited.run["reading"]["rewritten"] == limited.samples["read_as"].notna().sum() >= 1


def test_a_damaged_wordnet_reads_the_split_as_written(tiny_synthref, tmp_path):
    """As in the Predictor, a broken WordNet costs the rewriting, not the evaluation."""
    from tvnet.data.wordnet import WordNet, shared_wordnet

    broken = tmp_path / "wn"
    shutil.copytree(shared_wordnet().root, broken)
    (broken / "data.adj").write_bytes(b"")  # an empty file cannot even be mapped
    data, _ = _copy(tiny_synthref, tmp_path, "a", "the crimson shape")
    refer = open_refer(data)
    vocab = Vocab.build(s.sentence for s in refer.samples("train"))
    reading = read_split(refer, "val", vocab, {}, wordnet=WordNet(broken))
    assert not reading.lexicon and reading.read_as == {}
    assert "read as written" in reading.note and "data.adj" in reading.note


def test_a_pool_of_encoders_not_loadable_by_name_still_evaluates(tiny_synthref, tmp_path):
    """A pool built with other encoders whose files cannot be found (the `paper` preset's
    DistilBERT, a VGG16 file, on another machine) has its neighbour tables, which are all the
    rows need: eval runs, with no image_similarity column and the
    rewritten rows' neighbours as retrieved for the text as written, and run.json says why."""
    ckpt = save_tiny_model(tiny_synthref["refer"], "full", tmp_path / "ckpt")
    data, _ = _copy(tiny_synthref, tmp_path, "a", "the crimson shape")
    pool = tmp_path / "custom-pool"
    shutil.copytree(tiny_synthref["pool"], pool)  # its val table: the original wording
    manifest = json.loads((pool / "manifest.json").read_text())
    manifest["text_encoder"]["name"] = "hf:distilbert-base-uncased"  # built before pools
    manifest["image_encoder"]["name"] = "timm:vgg16@vgg16.pth@224px"  # recorded their files
    (pool / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "dump"
    args = ["eval", "--checkpoint", str(ckpt), "--data", str(data), "--split", "val"]
    assert cli_main(args + ["--pool", str(pool), "--out", str(out), "--quiet"]) == 0
    dump = load_dump(out)
    rows = dump.samples.set_index("sample_id")
    assert rows.loc[SAMPLE, "read_as"] == "the red shape"
    table = pd.read_parquet(next(pool.glob("neighbours_*_val.parquet"))).set_index("sample_id")
    assert rows.loc[SAMPLE, "neighbour_image_id"] == table.loc[SAMPLE, "neighbour_image_id"]
    assert rows["image_similarity"].isna().all()
    assert "vgg16.pth" in dump.run["image_similarity_note"]
    assert "as written" in dump.run["reading"]["neighbours_note"]
