"""apps/demo (``python -m apps.demo``) served on 127.0.0.1 and driven through gradio_client, as
an API user would; and its command line, which answers --help without loading gradio or torch.

An untrained tiny TV-Net (full + baseline, on the tiny SynthRef pool) stands in for the bundled
model: its head bias is set so that `full` predicts a mask over the whole image and `baseline`
an empty one, whatever the neighbour or the words, which makes both answers, and the
influence of the neighbour, of each candidate and of each word (none), known by hand. It has
no calibration, so no answer of it earns a ✔. One test runs the bundled model when present.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import re
import subprocess
import sys
from html import escape
from pathlib import Path

import numpy as np
import pytest
import torch
from browser import free_port
from PIL import Image

import tvnet
from apps.demo import images, layout, notes
from apps.demo.__main__ import main as demo_main
from tests.conftest import TINY_MODEL

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "assets" / "examples"
SEGMENT = "/segment"
N_OUTPUTS = 20  # overlay … words (the state is not part of the API)


def tiny_checkpoints(root: Path, refer) -> Path:
    """``root/{full,baseline}``: untrained tiny models with a known sign of the mask logit."""
    import tvnet
    from tvnet.checkpoint import save_checkpoint
    from tvnet.data.tokenize import Vocab

    vocab = Vocab.build(s.sentence for s in refer.samples("train"))
    for variant, bias in (("full", 4.0), ("baseline", -4.0)):
        torch.manual_seed(0)
        model = tvnet.build_model("cpu", variant, vocab=vocab, pretrained=False, **TINY_MODEL)
        with torch.no_grad():
            model.head.net[-1].bias.fill_(bias)  # full: everything foreground; baseline: none
        save_checkpoint(model, root / variant)
    return root


def tiny_handlers(tiny_synthref, tmp_path: Path):
    """The demo's handlers (no server) on the tiny `full` and `baseline` of
    :func:`tiny_checkpoints`, drawing into ``tmp_path``."""
    from apps.demo.handlers import Handlers
    from apps.demo.models import Models

    ckpt = tiny_checkpoints(tmp_path / "ckpt", tiny_synthref["refer"]) / "full"
    models = Models(ckpt, tiny_synthref["pool"], device="cpu",
                    pool_images=tiny_synthref["data"] / "images")  # fmt: skip
    return Handlers(models, tmp_path / "pictures")


@pytest.fixture(scope="module")
def app(tiny_synthref, tmp_path_factory):
    from gradio_client import Client

    ckpts = tiny_checkpoints(tmp_path_factory.mktemp("demo_ckpt"), tiny_synthref["refer"])
    demo = layout.build_demo(
        ckpts / "full",
        tiny_synthref["pool"],
        device="cpu",
        pool_images=tiny_synthref["data"] / "images",
    )
    url = layout.launch(demo, port=free_port(), block=False)
    try:
        yield {"url": url, "client": Client(url, verbose=False)}
    finally:
        demo.close()


@pytest.fixture(scope="module")
def example():
    first = json.loads((EXAMPLES / "examples.json").read_text())[0]
    return EXAMPLES / first["image"], first["expression"]


def segment(client, image, expression, **kw):
    from gradio_client import handle_file

    return client.predict(
        None if image is None else handle_file(str(image)), expression, api_name=SEGMENT, **kw
    )


def named(out) -> dict:
    keys = ["overlay", "status", "neighbour", "neighbour_caption", "attention"]
    keys += ["attention_caption", "a2", "a2_caption", "gates", "candidates", "candidate"]
    keys += ["latency", "mask", "summary", "probability", "probability_caption", "influence"]
    keys += ["influence_caption", "gates_caption", "words"]
    assert len(out) == N_OUTPUTS, len(out)
    return dict(zip(keys, out))


def load(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_examples_file_lists_readable_images_under_2_mib():
    rows = json.loads((EXAMPLES / "examples.json").read_text())
    assert 6 <= len(rows) <= 10
    assert sum(r["image"].startswith("synthref_") for r in rows) >= 4
    for r in rows:
        assert r["expression"].strip()
        with Image.open(EXAMPLES / r["image"]) as im:
            im.verify()
    assert sum(f.stat().st_size for f in EXAMPLES.iterdir()) < 2 * 2**20


def test_api_exposes_segment_compare_and_neighbour_choice(app):
    api = app["client"].view_api(print_info=False, return_format="dict")
    names = set(api["named_endpoints"])
    assert {"/segment", "/compare", "/choose_neighbour"} <= names, names
    params = [p["parameter_name"] for p in api["named_endpoints"]["/segment"]["parameters"]]
    assert params == ["image", "expression", "level", "show_gates", "variant", "mirror"]


def test_segment_returns_every_output(app, example):
    image, expression = example
    o = named(segment(app["client"], image, expression))
    h, w = load(image).shape[:2]

    overlay = load(o["overlay"])
    assert overlay.shape[:2] == (h, w)
    assert np.abs(overlay.astype(int) - load(image)).mean() > 5  # the mask is drawn on it
    mask = np.asarray(Image.open(o["mask"]))
    assert mask.shape == (h, w) and (mask > 127).any()  # non-empty on an example
    assert "Mask:" in o["status"] and "Could not" not in o["status"]

    s = o["summary"]
    assert s["variant"] == "full" and s["expression"] == expression
    assert s["mask_fraction"] > 0 and s["size"] == [w, h]
    assert s["neighbour"]["retrieved"] is True
    assert {"retrieval", "model", "total", "render"} <= set(s["timings_ms"])

    nb = load(o["neighbour"])
    assert nb.ndim == 3 and min(nb.shape[:2]) > 32
    assert s["neighbour"]["sentence"] in o["neighbour_caption"]
    assert "text similarity" in o["neighbour_caption"]
    assert load(o["attention"]).shape == nb.shape  # A_l is drawn over the neighbour
    assert "A₅" in o["attention_caption"] and "referent" in o["attention_caption"]
    assert load(o["a2"]).shape[:2] == (h, w)  # A_2 is drawn over the input
    assert "A₂" in o["a2_caption"]
    assert o["gates"] == []  # only on request

    table = o["candidates"]
    assert table["headers"][:4] == ["pick", "rank", "text rank", "expression"]
    rows = table["data"]
    assert len(rows) == 20  # the text top-20
    assert [r[0] for r in rows].count("★ retrieved") == 1 and rows[0][0] == "★ retrieved"
    choice = o["candidate"]  # a dropdown update: the 20 choices, the retrieved one selected
    assert rows[0][-1] == s["neighbour"]["pool_index"] == choice["value"]
    assert len(choice["choices"]) == 20 and "★ retrieved" in choice["choices"][0][0]
    assert "model" in o["latency"] and "total" in o["latency"]
    assert "neighbour influence" in o["latency"]

    # the verdict: no calibration, so no ✔ however the mask looks; the reason comes first
    assert s["confidence"] is None and s["confident"] is False
    assert "✔" not in o["status"] and "Check this answer" in o["status"]
    assert o["status"].index("Check this answer") < o["status"].index("Mask:")
    assert "confidence unknown" in o["status"]

    # every map has a colour bar naming its range; the probability is drawn over the input
    assert load(o["probability"]).shape[:2] == (h, w)
    for name in ("probability_caption", "attention_caption", "a2_caption"):
        assert o[name].count('class="cbar"') == 1, name
        assert re.search(r'title="lowest [-\d.e]+, highest [-\d.e]+"', o[name]), o[name]
    assert "p ≥ 0.5" in o["probability_caption"]
    # the whole image is foreground (the head's bias), gate closed or open: nothing changes
    assert s["mask_fraction"] == 1.0
    assert s["neighbour_influence"] == {"changed": 0.0, "iou": 1.0}
    assert "Enrichment with the neighbour changed 0 % of the mask" in o["influence_caption"]
    # closing the gate measures the enrichment path, not the image on it: no claim about it
    assert "barely depends on the enrichment" in o["influence_caption"]
    assert "retrieved image" not in o["influence_caption"]
    assert load(o["influence"]).shape[:2] == (h, w)
    assert "Which words mattered?" in o["words"]  # the words view waits for its button


def test_word_and_candidate_influence_on_demand(app, example):
    """/word_influence shades every word of the expression; /candidate_influence adds a mask
    change column to the table. The tiny `full` answers the whole image whatever the words
    and the neighbour, so every influence is 0."""
    client = app["client"]
    image, expression = example
    first = named(segment(client, image, expression))
    html = client.predict(api_name="/word_influence")
    words = re.findall(r"[A-Za-z]+", expression)
    spans = re.findall(r'<span class="word" data-influence="([\d.]+)"[^>]*>([^<]*)<sub>', html)
    assert [w for _, w in spans] == words
    assert all(float(v) == 0 for v, _ in spans)
    assert "No single word moves the mask" in html

    table, note = client.predict(api_name="/candidate_influence")
    assert table["headers"][-2:] == ["mask change", "pool #"]
    assert [r[-1] for r in table["data"]] == [r[-1] for r in first["candidates"]["data"]]
    assert {r[-2] for r in table["data"]} == {"0 %"}
    assert "per candidate" in note and "from 0 % to 0 %" in note


def test_words_the_model_never_saw_are_read_as_known_ones_and_shown(app, tiny_synthref):
    """A plural of a known noun is read as the noun (tvnet/data/lexicon.py); the page says so,
    the summary records what the model read, and the words view shades the words it read."""
    from tvnet.data.tokenize import tokenize
    from tvnet.data.wordnet import WordNet

    known = {t for s in tiny_synthref["refer"].samples("train") for t in tokenize(s.sentence)}
    wn = WordNet()
    noun = next(
        w for w in sorted(known) if w + "s" not in known and wn.base_forms(w + "s", "n") == [w]
    )
    image = EXAMPLES / json.loads((EXAMPLES / "examples.json").read_text())[0]["image"]
    o = named(segment(app["client"], image, f"the {noun}s"))
    assert o["summary"]["read_as"] == f"the {noun}"
    assert o["summary"]["rewrites"] == [[f"{noun}s", noun]]
    assert o["summary"]["unknown_words"] == []
    assert f"read “{noun}s” as “{noun}”" in o["status"]
    html = app["client"].predict(api_name="/word_influence")
    spans = re.findall(r'<span class="word" data-influence="[\d.]+"[^>]*>([^<]*)<sub>', html)
    assert spans == ["the", noun]


def test_gates_on_request_and_other_levels(app, example):
    o = named(segment(app["client"], *example, level=3, show_gates=True))
    assert len(o["gates"]) == 3
    assert [g["caption"].split(":")[0] for g in o["gates"]] == ["level 3", "level 4", "level 5"]
    assert all(Path(g["image"]).is_file() for g in o["gates"])
    assert "A₃" in o["attention_caption"]
    bars = re.findall(r'<span class="cbar-name">(level \d)</span>', o["gates_caption"])
    assert bars == ["level 3", "level 4", "level 5"]


def test_choosing_another_candidate_reruns_with_it(app, example):
    client = app["client"]
    first = named(segment(client, *example))
    other = first["candidates"]["data"][4][-1]  # the 5th candidate's pool index
    o = named(client.predict(other, api_name="/choose_neighbour"))
    assert o["summary"]["neighbour"]["pool_index"] == other
    assert o["summary"]["neighbour"]["retrieved"] is False
    assert "chosen by you" in o["status"] and "chosen by you" in o["neighbour_caption"]
    picks = {r[-1]: r[0] for r in o["candidates"]["data"]}
    assert picks[other] == "▶ shown"
    assert picks[first["candidate"]["value"]] == "★ retrieved"  # the retrieval's pick stays
    assert o["candidate"]["value"] == other
    # and back to the retrieved one: its scores again, from the table (a chosen neighbour
    # comes unscored from the pool)
    back = named(client.predict(first["candidate"]["value"], api_name="/choose_neighbour"))
    scores = re.compile(r"similarity \*\*([^*]+)\*\*")
    assert scores.findall(back["neighbour_caption"]) == scores.findall(first["neighbour_caption"])
    assert len(scores.findall(first["neighbour_caption"])) == 2
    # the retrieved entry chosen again is the retrieval's answer, no choice of the user's to
    # keep for the next RES variant (as a real choice is, below the baseline's answer)
    kept = named(
        client.predict(
            first["candidate"]["value"], variant="baseline", api_name="/choose_neighbour"
        )
    )
    assert kept["summary"]["variant"] == "baseline" and "is kept" not in kept["status"]
    chosen = named(client.predict(other, variant="baseline", api_name="/choose_neighbour"))
    assert f"your chosen neighbour (pool entry {other}) is kept" in chosen["status"]


def test_a_variant_that_retrieves_another_neighbour_answers_with_the_users(
    tiny_synthref, tmp_path, example
):
    """The retrieval's pick chosen again, then a variant whose retrieval picks another entry
    (here `res` keeping the text search's first candidate, k_text 1, where `full` re-ranks 20
    by image): its answer uses the entry the user chose and says it was chosen (this
    variant's own pick marked ★ in the list the choice was made from), and the answer it
    retrieved is set aside and counted in the latency."""
    from gradio_client import Client

    from tvnet.checkpoint import save_checkpoint
    from tvnet.data.tokenize import Vocab

    ckpts = tiny_checkpoints(tmp_path / "ckpt", tiny_synthref["refer"])
    vocab = Vocab.build(s.sentence for s in tiny_synthref["refer"].samples("train"))
    torch.manual_seed(0)
    res = tvnet.build_model("cpu", "res", vocab=vocab, pretrained=False,
                            **{**TINY_MODEL, "retrieval_k_text": 1})  # fmt: skip
    save_checkpoint(res, ckpts / "res")
    demo = layout.build_demo(ckpts / "full", tiny_synthref["pool"], device="cpu",
                             pool_images=tiny_synthref["data"] / "images")  # fmt: skip
    url = layout.launch(demo, port=free_port(), block=False)
    try:
        client = Client(url, verbose=False)
        first = named(segment(client, *example))
        a = first["candidate"]["value"]  # full's retrieved entry
        kept = named(client.predict(a, variant="res", api_name="/choose_neighbour"))
        # and back: full retrieves that entry itself, so it is the retrieved one again
        back = named(client.predict(a, variant="full", api_name="/choose_neighbour"))
        alone = named(segment(Client(url, verbose=False), *example, variant="res"))
    finally:
        demo.close()
    assert alone["summary"]["neighbour"]["pool_index"] != a  # res alone retrieves another
    assert kept["summary"]["variant"] == "res"
    assert kept["summary"]["neighbour"]["pool_index"] == a
    assert "retrieved neighbour's answer (set aside)" in kept["latency"]
    assert "set aside" in json.dumps(kept["summary"]["timings_ms"])
    picks = {r[-1]: r[0] for r in kept["candidates"]["data"]}
    assert len(picks) == len(first["candidates"]["data"]) > 1  # the list a was chosen from
    b = alone["summary"]["neighbour"]["pool_index"]
    # the one shown is the user's choice, not this variant's retrieval: said so everywhere
    assert kept["summary"]["neighbour"]["retrieved"] is False
    assert "chosen by you" in kept["neighbour_caption"] and "chosen by you" in kept["status"]
    assert picks[a] == "▶ shown" and picks.get(b, "★ retrieved") == "★ retrieved"
    assert back["summary"]["neighbour"] == {**first["summary"]["neighbour"], "retrieved": True}
    assert "(retrieved)" in back["neighbour_caption"] and "chosen by you" not in back["status"]
    assert {r[-1]: r[0] for r in back["candidates"]["data"]}[a] == "★ retrieved"


def test_baseline_variant_has_no_neighbour_and_says_the_mask_is_empty(app, example):
    o = named(segment(app["client"], *example, variant="baseline"))
    assert o["summary"]["variant"] == "baseline"
    assert o["neighbour"] is None and o["attention"] is None and o["a2"] is None
    assert "no RES" in o["attention_caption"] and "no AMF" in o["a2_caption"]
    assert o["candidates"]["data"] in ([], [[""] * 7], [[None] * 7])
    assert "mask is empty" in o["status"]
    assert o["influence"] is None and "no retrieval" in o["influence_caption"]
    assert o["summary"]["neighbour_influence"] is None
    assert "✔" not in o["status"]


def test_compare_shows_every_variant_side_by_side(app, example):
    from gradio_client import handle_file

    tiles, table = app["client"].predict(
        handle_file(str(example[0])), example[1], api_name="/compare"
    )
    assert [t["caption"].split(":")[0] for t in tiles] == ["baseline", "full"]
    assert all(Path(t["image"]).is_file() for t in tiles)
    rows, *notes = table.split("\n\n")
    assert "| variant |" in rows and rows.count("\n") == 3
    assert "| confidence |" in table and "✔" not in table  # uncalibrated: none earns it
    # what each answer read is said under the table, once for both (their vocabularies agree)
    assert notes == ["*Note:* words outside the vocabulary (read as &lt;unk&gt;): large"], notes
    # why no ✔: these untrained masks (empty, whole image) come with warnings
    assert len(re.findall(r"\| — ⚠ [1-9]\d* warnings? \|", table)) == 2, table
    # each checkpoint's budget; these hand-made ones record none
    assert "| training |" in table and table.count("| untrained |") == 2
    assert "mirror" not in table
    # mirror averaging for every variant, said under the table
    tiles, table = app["client"].predict(
        handle_file(str(example[0])), example[1], True, api_name="/compare"
    )
    assert len(tiles) == 2 and table.count("| untrained |") == 2
    assert table.endswith("*Each answer averaged with the mirror image's.*")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "case",
    ["no image", "text file", "truncated png", "empty expression", "blank expression"],
)
def test_bad_input_is_a_message_not_an_error(app, example, tmp_path, case):
    from gradio_client import Client

    client = Client(app["url"], verbose=False)  # a visitor of its own: nothing on show yet
    image, expression = example
    png = image.read_bytes()
    if case == "no image":
        image = None
    elif case == "text file":
        image = _write(tmp_path / "notes.txt", b"not an image at all\n")
    elif case == "truncated png":
        image = _write(tmp_path / "broken.png", png[: len(png) // 3])
    elif case == "empty expression":
        expression = ""
    else:
        expression = "   \n "
    o = named(segment(client, image, expression))
    assert o["status"].startswith("⚠ **Could not segment:**"), o["status"]
    assert "Traceback" not in o["status"]
    expect = {
        "no image": "no image",
        "text file": "notes.txt",
        "truncated png": "broken.png",
        "empty expression": "expression is empty",
        "blank expression": "expression is empty",
    }[case]
    assert expect in o["status"], o["status"]
    assert o["overlay"] is None and o["summary"] is None
    if case != "empty expression":
        return
    # bad input after an answer loses nothing: the message above it, the answer left as shown
    good = named(segment(client, *example))
    o = named(segment(client, example[0], ""))
    assert (
        o["status"].startswith("⚠ **Could not segment:**") and "expression is empty" in o["status"]
    )
    assert "still the last one" in o["status"] and good["status"] in o["status"]
    unchanged = {"__type__": "update"}  # what the API says of an output left as it is
    assert o["overlay"] == unchanged and o["summary"] == unchanged and o["mask"] == unchanged


def test_huge_image_long_expression_and_unknown_words_are_noted(app, tmp_path):
    big = np.zeros((1800, 2400, 3), np.uint8)
    big[600:1200, 800:1600] = (220, 40, 40)
    path = tmp_path / "big.png"
    Image.fromarray(big).save(path)
    expression = "the red square " + "qwzx " * 200  # 1015 characters, 203 words
    o = named(segment(app["client"], path, expression))
    status = o["status"]
    assert "Mask:" in status
    assert "downscaled from 2400×1800 to 1600×1200" in status
    assert "cut to its first 500 characters" in status
    assert "the model reads the first 20" in status
    assert "&lt;unk&gt;" in status and "qwzx" in status  # listed, and <unk> not eaten as HTML
    assert o["summary"]["unknown_words"] == ["qwzx"]
    assert load(o["overlay"]).shape[:2] == (1200, 1600)  # drawn at the size the model read
    assert load(o["mask"]).shape[:2] == (1800, 2400)  # the mask file fits the upload
    assert o["summary"]["size"] == [2400, 1800]
    assert o["summary"]["mask_pixels"] == int((load(o["mask"])[..., 0] > 127).sum())
    # another neighbour (or variant) for the same upload reads its working copy: the note
    # stays, said once
    again = named(app["client"].predict(0, api_name="/choose_neighbour"))
    assert "chosen by you" in again["status"]
    assert again["status"].count("downscaled from 2400×1800 to 1600×1200") == 1


def test_read_image_refuses_non_images_with_the_file_name(app, tmp_path):
    from tvnet import InputError

    read_image = images.read_upload
    bad = _write(tmp_path / "x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    with pytest.raises(InputError, match="x.svg"):
        read_image({"path": str(bad), "orig_name": "x.svg"})
    with pytest.raises(InputError, match="no image"):
        read_image(None)
    rgba = np.zeros((4, 5, 4), np.uint8)  # fully transparent → composited on white
    assert (read_image(rgba) == 255).all() and read_image(rgba).shape == (4, 5, 3)
    with pytest.raises(InputError, match="arrived damaged"):
        read_image({"url": "data:image/png;base64,@@not base64@@", "orig_name": "p.png"})
    # an upload the server's cache clean-up removed (a tab left open for over an hour)
    gone = {"path": str(tmp_path / "gradio" / "abc" / "cat.png"), "orig_name": "cat.png"}
    with pytest.raises(InputError, match="cat.png is no longer on the server .*upload it again"):
        read_image(gone)


def test_main_reports_a_missing_checkpoint_cleanly(app, tmp_path, capsys):
    code = demo_main(["--checkpoint", str(tmp_path / "nowhere"), "--port", "1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "Traceback" not in err
    assert gc.isenabled()  # the start turns the collector off only once the checks passed
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text('{"model": {"variant": "Full"}}')
    assert demo_main(["--checkpoint", str(bad), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "unknown variant 'Full'" in err and "Traceback" not in err


def test_the_worker_turns_the_garbage_collector_back_on_once_the_model_is_in(
    tiny_synthref, tmp_path
):
    """The worker loads with Python's collector off (docs/design.md §7, "The demo"); once the
    main model is in, the objects of the start are frozen out of the collector's way and it
    runs again."""
    from apps.demo import worker
    from apps.demo.models import Models

    ckpt = tiny_checkpoints(tmp_path, tiny_synthref["refer"]) / "full"
    gc.disable()
    try:
        models = Models(
            ckpt,
            tiny_synthref["pool"],
            device="cpu",
            pool_images=tiny_synthref["data"] / "images",
            background=True,
        )
        worker.exit_if_not_loaded(models)  # returns once the model is in
        assert models.ready
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


DEFERRED_ANSWER = """
import sys
import numpy as np
from apps.demo import lazy_dynamo
from apps.demo.handlers import Handlers
from apps.demo.models import Models

ckpt, pool, images, image, expression, out, defer = sys.argv[1:]
prepare = lazy_dynamo.defer_dynamo if defer == "defer" else None
models = Models(ckpt, pool, device="cpu", pool_images=images, prepare=prepare)
answer = Handlers(models).segment(image, expression)
assert "Mask:" in answer[1], answer[1]
pred = models.get(None)(np.asarray(__import__("PIL.Image").Image.open(image).convert("RGB")), expression)
np.savez(out, prob=pred.prob, a2=pred.a2, attention=pred.attention[-1])
assert "transformers" in sys.modules and "timm" in sys.modules and "torchvision" in sys.modules
print("DYNAMO", lazy_dynamo.imported())
"""


def test_the_worker_answers_without_torch_dynamo_and_the_same(tiny_synthref, tmp_path, example):
    """The worker's load with torch._dynamo deferred (apps.demo.lazy_dynamo): timm,
    torchvision and transformers load, a first answer (with the neighbour's influence) comes,
    and torch._dynamo is never imported; the maps are those of a process without the
    deferral, bit for bit."""
    ckpt = tiny_checkpoints(tmp_path / "ckpt", tiny_synthref["refer"]) / "full"
    image, expression = example
    common = [str(ckpt), str(tiny_synthref["pool"]), str(tiny_synthref["data"] / "images")]
    common += [str(image), expression]
    for mode in ("defer", "plain"):
        done = subprocess.run(
            [sys.executable, "-c", DEFERRED_ANSWER, *common, str(tmp_path / mode), mode],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"DYNAMO {mode == 'plain'}" in done.stdout, (mode, done.stdout)
    deferred, plain = np.load(tmp_path / "defer.npz"), np.load(tmp_path / "plain.npz")
    for name in plain.files:
        assert np.array_equal(deferred[name], plain[name]), name


def test_deferred_torch_dynamo_is_the_real_one_when_needed():
    """Each stand-in name works without torch._dynamo; a submodule without a stand-in brings
    the real package, each module imported once; torch.compile then works."""
    code = """
import sys
import torch
from apps.demo import lazy_dynamo

assert lazy_dynamo.defer_dynamo() is not None
import torchvision.ops  # roi_align: from torch._dynamo.utils import is_compile_supported
roi_align = sys.modules["torchvision.ops.roi_align"]

def f(x):
    return x + 1

g = torch.compiler.disable(f)
assert g(1) == 2 and g.__name__ == "f" and not lazy_dynamo.imported()
import torch._dynamo.config as config  # no stand-in: the real package, then this module
assert lazy_dynamo.imported()
assert sys.modules["torch._dynamo.config"] is config and torch._dynamo.config is config
assert type(config.__spec__.loader).__name__ != "Imported"
assert not any(isinstance(m, lazy_dynamo.StandIn) for m in sys.modules.values())
assert g(1) == 2  # the real decorator from now on
assert roi_align.is_compile_supported("cpu") in (True, False)
assert torch.compile(f, backend="eager")(torch.ones(2)).tolist() == [2.0, 2.0]
print("OK")
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "OK" in done.stdout, done.stderr[-3000:]


def test_inferno_is_matplotlibs_without_importing_matplotlib():
    """The heat maps' colours: tvnet.draw's written-out inferno is matplotlib's, entry for
    entry, and drawing with it leaves matplotlib unimported (0.35 s of the demo's first
    answer)."""
    from matplotlib import colormaps

    from tvnet import draw

    want = (colormaps["inferno"](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    lut = draw.colormap("inferno")
    assert lut.dtype == np.uint8 and not lut.flags.writeable
    assert np.array_equal(lut, want)
    code = (
        "import sys, numpy as np, tvnet; "
        "tvnet.heatmap(np.zeros((4, 4, 3), np.uint8), np.eye(4)); "
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


def test_a_model_that_cannot_load_stops_the_demo_with_its_reason(tiny_synthref, tmp_path):
    """The model loads in the worker process while the page starts: when its weights are
    unreadable, the worker says why and the demo exits with status 2, leaving no process and
    no folder behind."""
    ckpt = tiny_checkpoints(tmp_path / "ckpt", tiny_synthref["refer"]) / "full"
    (ckpt / "model.safetensors").write_bytes(b"not weights")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    args = [sys.executable, "-m", "apps.demo", "--checkpoint", str(ckpt), "--device", "cpu"]
    args += ["--pool", str(tiny_synthref["pool"]), "--port", str(free_port())]
    done = subprocess.run(
        args,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(tmp), "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "error: the model failed to load" in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert list(tmp.glob("tvnet-*")) == []  # the pictures' folder and the worker's socket


def test_an_influence_view_of_a_replaced_answer_says_so(tiny_synthref, tmp_path, example):
    """The influence buttons run one at a time with the model calls: one clicked while a new
    Segment ran would show the previous answer's numbers under the new one. A session's view
    of an answer that is no longer on show says so instead; the current one's is drawn."""
    from apps.demo.outputs import REPLACED, SKIP

    h = tiny_handlers(tiny_synthref, tmp_path)
    image, expression = example
    first = h.segment(image, expression, session="s")[-1]
    second = h.segment(image, "the star", session="s")[-1]
    assert first != second
    assert REPLACED in h.word_influence(first, "s")
    assert h.candidate_influence(first, "s") == (SKIP, f"*{REPLACED}*")
    assert REPLACED not in h.word_influence(second, "s")
    assert "data-influence" in h.word_influence(second, "s")
    table, note = h.candidate_influence(second, "s")
    assert table is not SKIP and "Mask change" in note
    assert REPLACED not in h.word_influence(first, "other-session")  # another tab's own answer
    # a point clicked on an upload the answer is not of: nothing redrawn from its maps
    other = tmp_path / "other.png"
    Image.open(image).convert("RGB").transpose(Image.FLIP_LEFT_RIGHT).save(other)
    assert h.pick_point(second, 5, 3, 4, True, str(other))[:2] == (SKIP, SKIP)
    drawn, att, caption = h.pick_point(second, 5, 3, 4, True, str(image))
    assert Path(drawn).is_file() and att is not SKIP
    # after each answer the page asks for the level and the gates shown at that moment: the
    # values the answer was drawn with cost nothing, a control changed while it ran redraws
    assert h.change_level(second, 5) == (SKIP, SKIP)
    att, caption = h.change_level(second, 3)
    assert Path(att).is_file() and "**A₃** (Eq. 1)" in caption
    assert h.change_level(second, 3) == (SKIP, SKIP)
    assert h.toggle_gates(second, False) == (SKIP, SKIP)  # drawn without them
    tiles, gates_caption = h.toggle_gates(second, True)
    assert tiles and all(Path(t[0] if isinstance(t, tuple) else t).is_file() for t in tiles)
    assert h.toggle_gates(second, True) == (SKIP, SKIP)


def test_every_answer_is_followed_by_the_level_and_gates_shown_when_it_arrives(
    tiny_synthref, tmp_path
):
    """The page sends the level and the gates' box as a model call starts: each answer is
    followed by the two redraws that read them again when it arrives (a change made while it
    ran would be undone otherwise), and only model answers are."""
    ckpt = tiny_checkpoints(tmp_path / "ckpt", tiny_synthref["refer"]) / "full"
    demo = layout.build_demo(ckpt, tiny_synthref["pool"], device="cpu",
                             pool_images=tiny_synthref["data"] / "images")  # fmt: skip
    fns = demo.fns
    name = {k: getattr(f.fn, "__name__", "") for k, f in fns.items()}
    answers = [k for k, f in fns.items() if f.concurrency_id == "model" and "influence" not in
               name[k] and not name[k].startswith("compare")]  # fmt: skip
    assert {name[k] for k in answers} == {
        "segment",
        "rerun_variant",
        "choose_neighbour",
        "choose_row",
    }
    for k in answers:
        after = {name[j] for j, f in fns.items() if f.trigger_after == k}
        assert {"change_level", "toggle_gates"} <= after, (name[k], after)
    # a variant or mirror change made while the last one runs is run after it, not dropped
    reruns = [f for k, f in fns.items() if name[k] == "rerun_variant"]
    assert len(reruns) == 2 and all(f.trigger_mode == "always_last" for f in reruns)
    followed = {fns[j].trigger_after for j in fns if name[j] in ("change_level", "toggle_gates")}
    assert followed - {None} == set(answers)


def test_picture_files_are_written_once_and_pruned_only_when_no_longer_handed_out(tmp_path):
    """A picture is a file named by its content, written once; prune() forgets the ones older
    than max_age_s, but one handed out again (the same neighbour for another user) is young."""
    files = images.ImageFiles(tmp_path, max_age_s=100)
    a, b = np.zeros((4, 4, 3), np.uint8), np.full((4, 4, 3), 200, np.uint8)
    pa, pb = Path(files(a, "png")), Path(files(b, "png"))
    assert Path(files(a, "png")) == pa and sorted(tmp_path.iterdir()) == sorted([pa, pb])
    for p in (pa, pb):
        os.utime(p, (1, 1))  # both written long ago
    assert Path(files(a, "png")) == pa  # a is handed out again
    files.prune()
    assert pa.is_file() and not pb.exists()
    assert np.array_equal(np.asarray(Image.open(pa)), a)


def test_a_worker_that_stopped_is_said_on_the_page_with_its_reason(tiny_synthref, tmp_path):
    """A worker killed under the page (out of memory, say): the next call raises the
    gr.Error whose message Gradio shows, with the worker's exit status, not a bare "Error"."""
    import gradio as gr

    from apps.demo.events import Demo
    from apps.demo.remote import Worker

    ckpt = tiny_checkpoints(tmp_path / "ckpt", tiny_synthref["refer"]) / "full"
    argv = ["--checkpoint", str(ckpt), "--pool", str(tiny_synthref["pool"]), "--device", "cpu"]
    worker = Worker(argv, tmp_path / "pictures")
    try:
        demo = Demo(worker, models=None)
        assert "full" in demo.model_note()  # the worker answers through the page's class
        worker.proc.kill()
        worker.proc.wait(timeout=60)
        with pytest.raises(gr.Error, match=r"model worker .*exited with status -9"):
            demo.word_influence("no-such-key")
    finally:
        worker.stop()


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc")
def test_a_hung_worker_is_replaced_and_the_next_call_is_answered(tiny_synthref, tmp_path):
    """A worker that stops answering (here really stopped, SIGSTOP) holds no call longer than
    the timeout: the call fails with the reason, the stuck process is killed, a new worker is
    started in its place and answers the next call; the pictures folder stays."""
    import signal
    import time

    import gradio as gr

    from apps.demo.events import Demo
    from apps.demo.remote import Worker

    ckpt = tiny_checkpoints(tmp_path / "ckpt", tiny_synthref["refer"]) / "full"
    argv = ["--checkpoint", str(ckpt), "--pool", str(tiny_synthref["pool"]), "--device", "cpu"]
    (tmp_path / "pictures").mkdir()
    worker = Worker(argv, tmp_path / "pictures")
    try:
        demo = Demo(worker, models=None)
        assert "full" in demo.model_note()
        stuck, old_dir = worker.proc, worker.dir
        os.kill(stuck.pid, signal.SIGSTOP)
        # a stop takes effect when each thread next enters the kernel: wait until all have
        # (state T), or a thread still running may answer the call below (seen: 1 run in 12)
        deadline = time.monotonic() + 30
        while _stat_fields(Path(f"/proc/{stuck.pid}/stat"))[0] != "T":
            assert time.monotonic() < deadline, "the worker did not stop"
            time.sleep(0.01)
        worker.call_timeout = 2
        with pytest.raises(gr.Error, match=r"did not answer model_note within 2 s"):
            demo.model_note()
        assert stuck.poll() == -signal.SIGKILL and not Path(old_dir).exists()
        assert worker.proc is not stuck and worker.alive() and worker.restarts == 1
        worker.call_timeout = 300
        assert "full" in demo.model_note()  # the same thread, a new connection
        assert (tmp_path / "pictures").is_dir()
    finally:
        worker.stop()


def _stat_fields(stat: Path) -> list[str]:
    """The fields of a /proc/PID/stat file after the command's name: state, parent's pid …"""
    return stat.read_text().rsplit(")", 1)[1].split()


def _wait_for_page(page: subprocess.Popen, port: int, timeout: float = 300) -> None:
    """Until the demo process ``page`` answers on ``port`` (it must not exit meanwhile)."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        assert page.poll() is None and time.monotonic() < deadline, "the demo did not start"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return
        except OSError:
            time.sleep(0.2)


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = _stat_fields(stat)
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:  # the field after the state: the parent's pid
            out.append(int(stat.parent.name))
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc")
def test_a_killed_page_leaves_no_worker_and_no_folder(tiny_synthref, tmp_path):
    """SIGKILL gives the page no clean-up of its own: the worker sees its standard input end,
    removes the page's socket and pictures folders, and exits."""
    import signal
    import time

    ckpt = tiny_checkpoints(tmp_path / "ckpt", tiny_synthref["refer"]) / "full"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    port = free_port()
    args = [sys.executable, "-m", "apps.demo", "--checkpoint", str(ckpt), "--device", "cpu"]
    args += ["--pool", str(tiny_synthref["pool"]), "--port", str(port)]
    env = {**os.environ, "TMPDIR": str(tmp), "GRADIO_ANALYTICS_ENABLED": "False"}
    page = subprocess.Popen(
        args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for_page(page, port)  # the page answers: the worker and both folders exist
        (worker,) = _children(page.pid)
        argv = Path(f"/proc/{worker}/cmdline").read_bytes().split(b"\0")
        socket_dir = Path(os.fsdecode(argv[argv.index(b"--address") + 1])).parent
        pictures = Path(os.fsdecode(argv[argv.index(b"--pictures") + 1]))
        # (the socket's folder is in /tmp when $TMPDIR is too long for a socket's path)
        assert socket_dir.name.startswith("tvnet-worker-") and socket_dir.is_dir()
        assert pictures.parent == tmp and pictures.is_dir()
        page.send_signal(signal.SIGKILL)
        page.wait(timeout=30)
        deadline = time.monotonic() + 60
        while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
            stat = Path(f"/proc/{worker}/stat")
            try:
                if _stat_fields(stat)[0] == "Z":  # exited, not reaped
                    break
            except OSError:
                break
            time.sleep(0.1)
        assert time.monotonic() < deadline, "the worker outlived the killed page"
        assert not socket_dir.exists() and not pictures.exists()
        assert list(tmp.glob("tvnet-*")) == []
    finally:
        if page.poll() is None:
            page.kill()


def test_the_page_outlives_a_killed_worker_and_says_when_its_port_is_taken(tiny_synthref, tmp_path):
    """A worker killed after loading (the out-of-memory killer, say) is started again and the
    page goes on answering; a second page on the same port exits with an error naming it."""
    import signal
    import time
    import urllib.request

    ckpt = tiny_checkpoints(tmp_path / "ckpt", tiny_synthref["refer"]) / "full"
    port = free_port()
    args = [sys.executable, "-m", "apps.demo", "--checkpoint", str(ckpt), "--device", "cpu"]
    args += ["--pool", str(tiny_synthref["pool"]), "--port", str(port)]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    log = tmp_path / "page.err"
    with open(log, "wb") as err:
        page = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        _wait_for_page(page, port)
        deadline = time.monotonic() + 300
        (worker,) = _children(page.pid)
        os.kill(worker, signal.SIGKILL)
        while True:  # another worker, the page still up
            assert page.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "no worker was started again"
            now = [p for p in _children(page.pid) if p != worker]
            if now:
                break
            time.sleep(0.1)
        assert "the model worker exited with status -9; starting another" in log.read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert r.status == 200
        second = subprocess.run(
            args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )
        assert second.returncode == 2
        assert f"cannot serve on 127.0.0.1:{port}: the port is taken" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        page.terminate()
        page.wait(timeout=60)


def test_bundled_model_answers_an_example(tmp_path):
    """The bundled model finds a part of a SynthRef scene; it vouches (✔) for an answer only
    when the Predictor calls it confident, and never for a photo, for words it cannot read or
    for an 8×8 image: those lead with their warnings."""
    from gradio_client import Client

    import tvnet

    demo = layout.build_demo(variants_dir=REPO / "no-other-variants")
    url = layout.launch(demo, port=free_port(), block=False)
    try:
        client = Client(url, verbose=False)
        rows = json.loads((EXAMPLES / "examples.json").read_text())
        row = rows[0]
        o = named(segment(client, EXAMPLES / row["image"], row["expression"]))
        note = notes.model_note(demo.models)
        assert "Trained on" in note
        # the default reads word pieces: its 100 training words are named, not 30,522 "words"
        assert "Reads any wording" in note and "used 100 distinct words" in note, note
        frac = o["summary"]["mask_fraction"]
        # the bundled model finds a part of this scene, never the whole of it; it is far from
        # the accuracy goal (README, "Results")
        assert 0 < frac < 0.6, o["status"]
        assert o["status"]
        assert o["status"].startswith("✔") == o["summary"]["confident"]
        # a SynthRef test scene with its own expression: no warning, a ✔ (the default ships
        # calibrated)
        assert (tvnet.default_checkpoint() / "calibration.json").is_file()
        assert o["summary"]["warnings"] == [], o["summary"]["warnings"]
        assert o["status"].startswith("✔"), o["status"]

        # the influence views show the Predictor's own numbers for this answer (the tiny
        # models above answer the whole image, so there every influence is 0 by construction)
        image = EXAMPLES / row["image"]
        p = tvnet.Predictor.from_checkpoint(device="cpu")
        words = single_words = p.word_influence(image, row["expression"])
        html = client.predict(api_name="/word_influence")
        shown = [float(v) for v in re.findall(r'data-influence="([\d.]+)"', html)]
        assert shown == pytest.approx([w.influence for w in words], abs=2e-3)
        assert max(shown) > 0.05  # some word moves the mask: the numbers are not all 0
        table, _ = client.predict(api_name="/candidate_influence")
        indices = [int(r[-1]) for r in table["data"]]
        found = p.candidate_influence(image, row["expression"], indices)
        shown = [float(r[-2].removesuffix(" %")) for r in table["data"]]
        assert shown == pytest.approx([100 * f.changed for f in found], abs=0.2)
        # not all "0 %" (full-320k's top five: 2.0–3.9 % in bf16, 1.9–3.5 % in fp32, Zen 5)
        assert max(shown) > 0.5

        # mirror averaging: the answer and every influence view are the Predictor's own
        # mirror-averaged ones, and the page says what is averaged and what is not
        o = named(segment(client, image, row["expression"], mirror=True))
        s = o["summary"]
        want = p(image, row["expression"], mirror=True, gate_closed=True)
        assert s["mirror_averaged"] is True and "mirror averaged" in o["status"]
        assert s["mask_pixels"] == pytest.approx(want.mask.sum(), rel=0.01)
        closed = p.neighbour_influence(image, row["expression"], pred=want)
        assert s["neighbour_influence"]["changed"] == pytest.approx(closed.changed, abs=2e-3)
        # each view's check below tells the mirror-averaged number from the single pass's
        single = p(image, row["expression"], gate_closed=True)
        single_nb = p.neighbour_influence(image, row["expression"], pred=single)
        # the mirror-averaged number, not the single pass's (0.03 points apart for full-480k
        # on this example, 2026-12-07; more than 0.2 for full-320k)
        seen = s["neighbour_influence"]["changed"]
        assert abs(closed.changed - single_nb.changed) > 2 * 2e-5  # farther than the check
        assert seen == pytest.approx(closed.changed, abs=2e-5)  # the summary's 5 decimals
        assert "both mirror averaged" in o["influence_caption"]
        assert "mirror image" in o["probability_caption"]
        assert "direct pass" in o["attention_caption"] and "mirror pass" in o["latency"]
        words = p.word_influence(image, row["expression"], mirror=True)
        html = client.predict(api_name="/word_influence")
        shown = [float(v) for v in re.findall(r'data-influence="([\d.]+)"', html)]
        assert shown == pytest.approx([w.influence for w in words], abs=2e-3)
        assert max(abs(a.influence - b.influence) for a, b in zip(words, single_words)) > 2e-3
        table, _ = client.predict(api_name="/candidate_influence")
        indices = [int(r[-1]) for r in table["data"][:10]]
        found = p.candidate_influence(image, row["expression"], indices, pred=want)
        shown = [float(r[-2].removesuffix(" %")) for r in table["data"][:10]]
        assert shown == pytest.approx([100 * f.changed for f in found], abs=0.2)
        found1 = p.candidate_influence(image, row["expression"], indices, pred=single)
        apart = [100 * abs(a.changed - b.changed) for a, b in zip(found, found1)]
        assert max(apart) > 0.2, apart  # full-320k's largest: 1.6 points in bf16, 1.0 in fp32
        # where the two differ by more than the table's rounding, it shows the mirrored one
        told = [(v, a, b) for v, a, b, d in zip(shown, found, found1, apart) if d > 0.15]
        assert told and all(abs(v - 100 * a.changed) < abs(v - 100 * b.changed) for v, a, b in told)
        del p

        tiny = tmp_path / "tiny.png"
        Image.open(EXAMPLES / row["image"]).convert("RGB").resize((8, 8)).save(tiny)
        doubtful = [
            (EXAMPLES / "chelsea.jpg", "the cat"),  # a photo, and a word it cannot read
            (EXAMPLES / row["image"], "der rote Kreis"),  # no word it can read
            (tiny, row["expression"]),  # 8×8 pixels
        ]
        for image, expression in doubtful:
            o = named(segment(client, image, expression))
            status, warnings = o["status"], o["summary"]["warnings"]
            assert "✔" not in status and "Check this answer" in status, (image, status)
            assert warnings and not o["summary"]["confident"], (image, expression)
            assert status.index(escape(warnings[0], quote=False)) < status.index("Mask:")
            if expression == "der rote Kreis":
                said = " ".join(warnings)  # a word vocabulary / word pieces
                assert "knows none of the words" in said or "None of these words" in said
    finally:
        demo.close()


def test_lineage_note_counts_the_earlier_runs():
    mod = notes
    first = {"checkpoint": "/r/a/last", "variant": "baseline", "step": 8000, "init": None}
    second = {"checkpoint": "/r/b/last", "variant": "baseline", "step": 6000, "init": first}
    third = {"checkpoint": "/r/c/last", "variant": "baseline", "step": 3000, "init": second}
    note = mod.lineage_note(third, "full")
    assert "3 earlier runs" in note and "17,000 steps" in note and "grown from a `baseline`" in note
    info = {"data": {"name": "synthref"}, "train": {"batch_size": 8}, "step": 3000, "init": third}
    assert (
        mod.training_summary(info, "full")
        == "3,000 steps × 8 after 17,000 earlier (grown from baseline)"
    )
    assert mod.training_summary({**info, "init": None}, "full") == "3,000 steps × 8"
    assert mod.training_summary({"step": None}, "full") == "untrained"
    # the checkpoint's training time (tvnet/record.py): 2 runs, 160k samples in 3422 s
    runs = [
        {"wall_s": 1000.0, "processor": "AMD EPYC", "precision": "bf16 autocast"},
        {"wall_s": 2422.0, "processor": "AMD EPYC", "precision": "fp32"},
    ]
    took = {"runs": runs, "wall_s": 3422.0, "samples": 160000, "samples_per_s": 160000 / 3422}
    assert (
        mod.training_summary({**info, "init": None, "training_time": took}, "full")
        == "3,000 steps × 8 (57 min at 46.8 samples/s, AMD EPYC, bf16 autocast / fp32)"
    )
    runs[0].update(from_step=400, to_step=9000)
    runs[1].update(from_step=9000, to_step=20000)
    assert tvnet.training_time_summary(took).startswith("steps 400–20,000: 57 min at 46.8")
    assert tvnet.training_time_summary(None) == ""
    # a damaged record (a hand-edited config.json or run.json) reads as none, never raises
    for bad in ({"runs": "x"}, {"runs": {"0": 1}}, {"runs": [3]}, {"runs": [{}]},
                {**took, "wall_s": None}, {**took, "samples_per_s": "fast"},
                {**took, "stalled_s": "long"},
                {**took, "runs": [{**runs[0], "from_step": "4"}]}, ["runs"]):  # fmt: skip
        assert tvnet.training_time_summary(bad) == ""
    note = mod.lineage_note(first, "baseline")
    assert "1 earlier run " in note and "8,000 steps" in note and "grown" not in note


def test_the_comparisons_verdict_says_why_there_is_no_tick():
    from tvnet import CONFIDENT
    from tvnet.data.transforms import Letterbox
    from tvnet.inference.prediction import Prediction

    mask = np.zeros((4, 4), bool)
    pred = Prediction(mask, mask.astype(np.float32), Letterbox.for_shape(4, 4, 8), 2)
    cases = [
        ({"confidence": CONFIDENT}, "✔"),
        ({"confidence": CONFIDENT - 0.01}, "⚠ not confident"),
        ({"confidence": None}, "⚠ no calibration"),
        ({"confidence": 0.99, "warnings": ["a"]}, "⚠ 1 warning"),
        ({"confidence": None, "warnings": ["a", "b"]}, "⚠ 2 warnings"),
    ]
    for fields, said in cases:
        assert notes.verdict_cell(dataclasses.replace(pred, **fields)) == said
    # the status line states a confidence as the chance the mask is right only where no
    # warning says the input is unlike what it was calibrated on
    sure = notes.confidence_text(dataclasses.replace(pred, confidence=0.91))
    assert sure.startswith("confidence 91 % (the estimated chance that this mask is right")
    doubt = notes.confidence_text(dataclasses.replace(pred, confidence=0.91, warnings=["a"]))
    assert "estimated chance" not in doubt and "91 %" in doubt and "may not hold" in doubt


def test_the_other_variants_come_at_the_main_ones_budget_when_shipped(tmp_path):
    from apps.demo.models import Models

    def ckpt(name, variant):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps({"model": {"variant": variant}}))

    for name, variant in [
        ("full-160k", "full"),
        ("baseline-160k", "baseline"),
        ("baseline", "baseline"),
        ("res", "res"),
        ("full", "full"),
    ]:
        ckpt(name, variant)
    models = Models(tmp_path / "full-160k", load=False)
    assert {v: d.name for v, d in models.dirs.items()} == {
        "baseline": "baseline-160k",  # the main one's budget, where shipped
        "res": "res",  # else Table 1's folder
        "full": "full-160k",
    }
    # a larger budget: the same where shipped, else the largest smaller one ("res-160k", not
    # "res-400k", nor "res_cct-160k", another variant), else Table 1's folder
    for name, variant in [
        ("full-240k", "full"),
        ("baseline-240k", "baseline"),
        ("res-80k", "res"),
        ("res-160k", "res"),
        ("res-400k", "res"),
        ("res_cct-160k", "res_cct"),
        ("full-grown", "full"),
    ]:
        ckpt(name, variant)
    models = Models(tmp_path / "full-240k", load=False)
    assert {v: d.name for v, d in models.dirs.items()} == {
        "baseline": "baseline-240k",
        "res": "res-160k",
        "res_cct": "res_cct-160k",
        "full": "full-240k",
    }
    models = Models(tmp_path / "full", load=False)  # no suffix: Table 1's folders only
    assert {v: d.name for v, d in models.dirs.items()} == {
        "baseline": "baseline",
        "res": "res",
        "full": "full",
    }
    # a folder named for a variant whose config holds another (or is unreadable) is passed
    # over: the page would show that model under the wrong name
    ckpt("res-240k", "full")
    ckpt("res_cct-240k", "res_cct")
    (tmp_path / "res_cct-240k" / "config.json").write_text("{")
    models = Models(tmp_path / "full-240k", load=False)
    assert models.dirs["res"].name == "res-160k" and models.dirs["res_cct"].name == "res_cct-160k"


def test_every_variant_has_a_label():
    import tvnet

    assert list(notes.VARIANT_LABEL) == list(tvnet.VARIANTS)


HEAVY = ("torch", "gradio", "numpy", "PIL", "pandas")
LIGHT_TVNET = ("tvnet", "tvnet.cli")  # the argparse types the demo shares with the tvnet CLI


def test_help_answers_without_importing_gradio_or_torch():
    """``python -m apps.demo --help`` parses its arguments before any heavy import: it prints
    the usage and exits 0 with none of HEAVY loaded (checked in the process itself)."""
    done = subprocess.run(
        [sys.executable, "-m", "apps.demo", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m apps.demo")
    for flag in ("--checkpoint", "--pool", "--variants-dir", "--host", "--port", "--concurrency"):
        assert flag in done.stdout, flag
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['apps.demo', '--help']\n"
        "try:\n"
        "    runpy.run_module('apps.demo', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as e:\n"
        "    assert e.code in (0, None), e.code\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        f"heavy += [m for m in sys.modules if m.startswith('tvnet') and m not in {LIGHT_TVNET!r}]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout and "HEAVY []" in done.stdout, done.stdout


@pytest.mark.parametrize(
    "argv, env, message",
    [
        ([], {"PORT": "abc"}, "a port from 1 to 65535, not 'abc'"),
        (["--port", "0"], {}, "a port from 1 to 65535, not '0'"),
        (["--concurrency", "-2"], {}, "must be ≥ 1, got -2"),
    ],
)
def test_a_bad_port_or_concurrency_is_a_usage_error_and_help_still_answers(argv, env, message):
    from apps.demo.__main__ import parser

    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        done = subprocess.run(
            [sys.executable, "-m", "apps.demo", *argv], cwd=REPO, capture_output=True,
            text=True, timeout=120, env={**os.environ, **env},
        )  # fmt: skip
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        if env:  # a bad $PORT does not stop --help, nor a valid --port beating it
            assert parser().parse_args(["--port", "8080"]).port == 8080
            with pytest.raises(SystemExit) as e:
                parser().parse_args(["--help"])
            assert e.value.code == 0


def test_one_visitors_answers_do_not_expire_the_answer_on_another_visitors_page():
    """The result cache keeps every answer on show and ``size`` other results, up to ``most``
    in all, least recently used out first."""
    from types import SimpleNamespace

    from apps.demo.models import ResultCache

    def result():
        return SimpleNamespace(
            pred=SimpleNamespace(
                attention=[np.zeros((2, 2), np.float32)], prob=np.zeros((2, 2), np.float32)
            )
        )

    # a session's result is on show from its put: another session's put, right after and
    # before any other step, does not evict it as a spare (no spares kept: size=0)
    race = ResultCache(size=0, most=4)
    first = race.put(result(), "a")
    second = race.put(result(), "b")
    assert race.get(first) and race.get(second)
    spare = race.put(result())  # put for no session: a spare, gone at the next put
    race.put(result(), "c")
    with pytest.raises(tvnet.InputError):
        race.get(spare)

    cache = ResultCache(size=2, most=4)
    mine = cache.put(result())
    cache.remember("me", mine)
    theirs = []
    for _ in range(4):  # another visitor presses Segment four times
        theirs.append(cache.put(result()))
        cache.remember("them", theirs[-1])
    assert cache.get(mine).pred.attention[0].dtype == np.float16  # still there
    assert cache.get(mine).pred.prob.dtype == np.float16
    assert cache.get(theirs[-1]) and cache.get(theirs[-2])
    with pytest.raises(tvnet.InputError, match="older results expire"):
        cache.get(theirs[0])
    cache.remember("me", None)  # my page shows no answer now: mine may go
    cache.get(theirs[-1])
    cache.remember("them", cache.put(result()))
    with pytest.raises(tvnet.InputError, match="older results expire"):
        cache.get(mine)
    # more answers on show than most: the oldest goes, even on show
    crowded = ResultCache(size=1, most=2)
    keys = [crowded.put(result(), f"s{i}") for i in range(3)]  # three visitors' answers
    with pytest.raises(tvnet.InputError):
        crowded.get(keys[0])
    assert crowded.get(keys[1]) and crowded.get(keys[2])
    # a page closed (Gradio's unload): its answer is pinned no longer, and goes before the
    # answers of pages still open
    closing = ResultCache(size=0, most=3)
    kept = [closing.put(result(), s) for s in ("open", "left", "other")]
    closing.release("left")
    assert closing.latest("left") is None
    closing.put(result(), "new")
    assert closing.get(kept[0]) and closing.get(kept[2])  # the oldest open page's too
    with pytest.raises(tvnet.InputError):
        closing.get(kept[1])
    # a call that was running when its page closed: its answer is kept, but not pinned
    running = ResultCache(size=0, most=3)
    ticket = running.begin("gone")
    running.release("gone")
    late = running.put(result(), "gone", ticket)
    assert late is not None and running.latest("gone") is None
    running.put(result(), "x")
    with pytest.raises(tvnet.InputError):  # a spare: the next put may expire it
        running.get(late)
    # a page that outlived its unload (a reconnect): its next call makes it live again
    ticket = running.begin("gone")
    assert ticket == 2  # numbered on from its calls before, not from 1
    back = running.put(result(), "gone", ticket)
    assert running.latest("gone") == back


def test_the_model_process_outlives_a_client_with_the_wrong_key(tmp_path):
    """A connection that fails the handshake (another key) is turned away; the server goes on
    answering the clients that have the key."""
    import threading
    import time
    from multiprocessing import AuthenticationError
    from multiprocessing.connection import Client

    from apps.demo.remote import serve

    class Echo:
        def twice(self, x):
            return 2 * x

    address = str(tmp_path / "model.sock")
    threading.Thread(target=serve, args=(Echo(), address, b"right"), daemon=True).start()
    # the socket's file appears at bind(), a moment before listen(): refused until then
    deadline = time.monotonic() + 10
    while True:
        try:
            with pytest.raises(AuthenticationError):
                Client(address, family="AF_UNIX", authkey=b"wrong")
            break
        except (FileNotFoundError, ConnectionRefusedError):
            assert time.monotonic() < deadline, "the server never listened"
            time.sleep(0.05)
    with Client(address, family="AF_UNIX", authkey=b"right") as conn:
        conn.send(("twice", (21,), {}))
        assert conn.recv() == ("ok", 42)


def test_a_comparison_of_an_input_no_longer_on_the_page_is_cleared():
    """Compare takes seconds; when the image or the expression changed meanwhile (their change
    cleared the old comparison), the answer that arrives is not shown under them."""
    from apps.demo.events import Demo
    from apps.demo.outputs import SKIP

    answered = ("/up/a.png", "the red star")
    fresh = Demo.compare_fresh(None, answered, {"path": "/up/a.png"}, "the red star")
    assert fresh == (SKIP, SKIP)
    assert Demo.compare_fresh(None, answered, {"path": "/up/b.png"}, "the red star") == ([], "")
    assert Demo.compare_fresh(None, answered, {"path": "/up/a.png"}, "the star") == ([], "")
    assert Demo.compare_fresh(None, None, None, None) == (SKIP, SKIP)  # nothing compared yet


def test_a_failed_segment_keeps_its_message_through_the_stale_mark(
    tiny_synthref, tmp_path, example
):
    """Every call is followed by the stale check of the page's input: after a Segment that
    failed (an empty expression) the page's input is not the answer's, and the check's mark
    used to replace the error, so the visitor never saw why. The error stays while the page
    holds the input that failed; an edit after it gets the stale mark, as any edit does."""
    from apps.demo.outputs import OUTPUTS

    h = tiny_handlers(tiny_synthref, tmp_path)
    image, expression = example
    good = h.segment(image, expression, session="s")
    key, answered = good[-1], good[OUTPUTS.index("status")]
    bad = h.segment(image, "", session="s")
    status = bad[OUTPUTS.index("status")]
    assert "expression is empty" in status and "still the last one" in status
    # the answer below is not of the input on the page: it stays marked stale (dimmed), not
    # shown with its ✔ as if it answered the new input
    assert 'class="stale-flag"' in status and "the expression changed" in status
    assert bad[-1] == key  # the answer on show is still the good one
    assert h.mark_stale(key, str(image), "", "s") == status
    edited = h.mark_stale(key, str(image), "the star", "s")
    assert "Stale" in edited and "expression is empty" not in edited
    assert h.mark_stale(key, str(image), expression, "s") == answered  # back to its input
    # a call on the answered input itself that fails (a variant switch, say): its message
    # stays too, where the check used to put the answer's own status back
    kept = h.failed_keeping("the variant failed", "s", (str(image), expression))
    again = kept[OUTPUTS.index("status")]
    assert "the variant failed" in again and h.mark_stale(key, str(image), expression, "s") == again
    assert "stale-flag" not in again  # on the answer's own input: not stale
    # a new answer ends the failure: its input is no longer the one that failed
    h.segment(image, "the star", session="s")
    assert "expression is empty" not in h.mark_stale(None, str(image), "", "s")


def test_one_visitors_calls_run_one_after_another_from_the_answer_on_show(
    tiny_synthref, tmp_path, example
):
    """With --concurrency ≥ 2 Gradio may run two calls of one page at once: a Segment still
    running and the mirror box ticked. The switch used to start from the answer the page's
    state named when it was sent (the one before the Segment) and race it. Now it waits for
    the Segment and applies to its answer. The Segment is held back by an event; the model
    calls are real."""
    import threading
    import time

    h = tiny_handlers(tiny_synthref, tmp_path)
    models = h.models
    image, expression = example
    key = h.segment(image, expression, session="s")[-1]  # an answer on show
    go, started = threading.Event(), threading.Event()
    predict = models.predict

    def held(*a, **kw):  # the Segment's model pass waits until the switch was sent
        started.set()
        assert go.wait(60)
        return predict(*a, **kw)

    models.predict = held
    out = {}
    seg = threading.Thread(target=lambda: out.update(seg=h.segment(image, "the star", session="s")))
    seg.start()
    assert started.wait(60)
    early = []  # model calls the switch made while the Segment was held

    def watched(*a, **kw):
        early.append(not go.is_set())
        return predict(*a, **kw)

    models.predict = watched
    switch = threading.Thread(
        target=lambda: out.update(
            mirror=h.rerun_variant(key, "full", 5, False, image, "the star", True, "s")
        )
    )
    switch.start()
    time.sleep(0.5)  # time for the switch to reach the model, were it not waiting
    assert switch.is_alive() and not early  # waits: the Segment holds the visitor
    go.set()
    seg.join(60)
    switch.join(60)
    assert early and not any(early)  # its model calls all came after the Segment's
    first, second = out["seg"][-1], out["mirror"][-1]
    assert len({key, first, second}) == 3 and h.cache.latest("s") == second
    r = h.cache.get(second)
    assert r.expression == "the star" and r.pred.mirror  # the Segment's answer, mirrored


def test_a_call_that_a_later_one_overtook_changes_nothing(tiny_synthref, tmp_path, example):
    """Calls are numbered as they start: one that finishes after a later one of the same
    visitor has finished (its answer or its error on the page) changes nothing, so an older
    answer never hides a later failure's message, nor an older failure a later answer."""
    from apps.demo.outputs import OUTPUTS, SKIP

    h = tiny_handlers(tiny_synthref, tmp_path)
    image, expression = example
    key = h.segment(image, expression, session="s")[-1]  # an answer on show
    early = h.cache.begin("s")  # a call that started first and still runs
    bad = h.segment(image, "", session="s")  # a later one, failed at once
    status = bad[OUTPUTS.index("status")]
    assert "expression is empty" in status and bad[-1] == key
    assert h.cache.put(h.cache.get(key), "s", early) is None  # the early answer arrives: kept out
    assert h.cache.latest("s") == key
    assert h.mark_stale(key, str(image), "", "s") == status  # the error stays on show
    # the other way round: a later answer, then an older call's failure
    ticket = h.cache.begin("s")
    newer = h.segment(image, "the star", session="s")
    late = h.failed_keeping("an older call failed", "s", (str(image), expression), ticket)
    assert late[:-1] == [SKIP] * len(OUTPUTS) and late[-1] == newer[-1]
    assert "an older call failed" not in h.mark_stale(newer[-1], str(image), "the star", "s")
    # calls that do not overtake each other show as before: one after the other
    assert h.segment(image, expression, session="s")[-1] not in (key, newer[-1])


def test_a_variant_that_fails_to_load_leaves_the_rest_of_the_comparison(
    tiny_synthref, tmp_path, example, monkeypatch
):
    """One shipped variant's damaged weights: the comparison shows the others' answers and a
    row saying why that one is missing (it used to show only "internal error"), and does not
    try the load again on the next click. An attention level an API caller made up, and a
    variant not here, are messages that keep the answer on show."""
    from apps.demo.handlers import Handlers
    from apps.demo.models import Models
    from apps.demo.outputs import OUTPUTS

    ckpts = tiny_checkpoints(tmp_path / "ckpt", tiny_synthref["refer"])
    good = (ckpts / "baseline" / "model.safetensors").read_bytes()
    (ckpts / "baseline" / "model.safetensors").write_bytes(b"not weights")
    models = Models(ckpts / "full", tiny_synthref["pool"], device="cpu",
                    pool_images=tiny_synthref["data"] / "images")  # fmt: skip
    h = Handlers(models, tmp_path / "pictures")
    image, expression = example
    loads = []
    real = tvnet.Predictor.from_checkpoint

    def counted(*a, **kw):  # the real load, counted
        loads.append(str(a[0]) if a else "")
        return real(*a, **kw)

    monkeypatch.setattr(tvnet.Predictor, "from_checkpoint", counted)
    for _ in range(2):
        tiles, table = h.compare(image, expression)
        assert [t[1].split(":")[0] for t in tiles] == ["full"]
        assert "| Baseline" in table or "(`baseline`)" in table
        assert re.search(r"baseline\\?` failed to load: .*corrupt", table), table
    assert list(models._broken) == ["baseline"]
    assert sum("baseline" in x for x in loads) == 1  # tried once, not on every click
    (ckpts / "baseline" / "model.safetensors").write_bytes(good)  # mended: tried again
    tiles, _ = h.compare(image, expression)
    assert [t[1].split(":")[0] for t in tiles] == ["baseline", "full"] and not models._broken
    key = h.segment(image, expression, session="s")[-1]
    for kw, said in (({"level": 2}, "level 2 is not an attention level"),
                     ({"variant": "res"}, "no checkpoint for variant 'res'")):  # fmt: skip
        out = h.segment(image, "the star", session="s", **kw)
        status = out[OUTPUTS.index("status")]
        assert said in status and "still the last one" in status, status
        assert out[-1] == key and h.cache.latest("s") == key
    # a neighbour that is no pool index: a message above the answer, which stays on show
    out = h.choose_neighbour(key, "abc", session="s")
    status = out[OUTPUTS.index("status")]
    assert "is not a pool index" in status and "still the last one" in status
    assert h.mark_stale(key, str(image), expression, "s") == status  # not replaced by the check
    # a variant switch whose answer expired: the page's input answered again, not ignored
    again = h.rerun_variant("expired", "full", 5, False, str(image), expression, session="s")
    assert again[-1] not in ("expired", key) and h.cache.latest("s") == again[-1]


def test_a_redraw_that_a_new_answer_overtook_draws_nothing(tiny_synthref, tmp_path, example):
    """A click on the mask, a level or the gates' box sent just before a new answer arrives
    draws the previous answer's maps: put over the new answer's panels, they would show the
    old image under the new verdict. A redraw of a key that is no longer the session's answer
    on show draws nothing; the answer on show still redraws."""
    from apps.demo.outputs import SKIP

    h = tiny_handlers(tiny_synthref, tmp_path)
    image, expression = example
    old = h.segment(image, expression, level=5, session="s")[-1]
    new = h.segment(image, "the star", level=5, session="s")[-1]
    r_old = h.cache.get(old)
    kept = (r_old.point, r_old.level_shown, r_old.gates_shown)
    assert h.pick_point(old, 5, 3, 3, False, None, "s") == (SKIP, SKIP, SKIP)
    assert h.clear_point(old, 5, "s") == (SKIP, SKIP, SKIP)
    assert h.change_level(old, 3, "s") == (SKIP, SKIP)
    assert h.toggle_gates(old, True, "s") == (SKIP, SKIP)
    assert (r_old.point, r_old.level_shown, r_old.gates_shown) == kept  # what it showed
    # a neighbour picked in the old answer's table is not applied to the new answer's
    from apps.demo.outputs import OUTPUTS

    picked = h.choose_neighbour(old, 0, session="s")
    assert picked == [SKIP] * len(OUTPUTS) + [new] and h.cache.latest("s") == new
    assert h.change_level(new, 7, "s")[1] == "*level 7 is not an attention level: 3, 4 or 5*"
    assert len(h.session_lock) == 0  # the visitors' locks live only while calls use them
    drawn = h.pick_point(new, 5, 3, 3, False, None, "s")
    assert all(x is not SKIP for x in drawn)
    assert h.change_level(new, 3, "s") != (SKIP, SKIP)
    # no record of the session's answer (pushed out, or its page reloaded): the page's key
    # is the one to draw, not nothing
    h.cache.release("s")
    assert h.toggle_gates(new, True, "s") != (SKIP, SKIP)
