"""apps/dashboard (``streamlit run apps/dashboard/app.py``) driven by Streamlit's AppTest on
hand-made dumps (numbers in tests/dumps_fixture.py) and on broken ones, plus one real-browser
screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser import chromium_available, free_port, screenshot, stop, wait_for_http
from dumps_fixture import add_broken_dumps, make_dump_tree, write_hand_dump
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "apps" / "dashboard" / "app.py")
PAGES = ["Overview", "Size analysis", "Failure cases", "Variant diff"]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_dump_tree(tmp_path_factory.mktemp("dash") / "dumps")


def run_app(dumps_dir, page: str = "Overview") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["dumps_dir"] = str(dumps_dir)
    at.session_state["page"] = page
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_by_title(at: AppTest, title: str):
    """The st.table that follows the subheader ``title``."""
    titles = [s.value for s in at.subheader]
    assert title in titles, titles
    # every table on these pages sits under its own subheader, in order
    with_tables = [t for t in titles if not t.startswith("Retrieved")]
    df = at.table[with_tables.index(title)].value
    return df.set_index(df.columns[0])


def test_difference_image_colours():
    import numpy as np

    from apps.dashboard import failure_cases as dash

    gt = np.array([[1, 1, 0, 0]], bool)
    pred = np.array([[1, 0, 1, 0]], bool)
    img = dash.difference(None, pred, gt)  # found, missed, false alarm, background
    found, missed, false_alarm, background = img[0]
    assert found[1] > found[0] and found[1] > found[2]  # green
    assert missed[2] > missed[0] and missed[2] > missed[1]  # blue
    assert false_alarm[0] > false_alarm[1] and false_alarm[0] > false_alarm[2]  # red
    assert (background == 40).all()  # untouched grey when there is no image


def test_overview_table1_holds_the_hand_computed_numbers(root):
    at = run_app(root)
    t1 = table_by_title(at, "Table 1 — handmade / val")
    assert list(t1.index) == ["baseline", "full"]
    assert t1.loc["full", "All oIoU"] == "45.95"  # 17/37
    assert t1.loc["full", "All mIoU"] == "45.83"  # (1 + 0 + 0.5 + 1/3) / 4
    assert t1.loc["baseline", "All oIoU"] == "70.59"  # 24/34
    assert [t1.loc["full", f"All Prec@{x}"] for x in (0.5, 0.6, 0.9)] == ["50.00", "25.00", "25.00"]
    assert t1.loc["full", "Small oIoU"] == "50.00"
    t3 = at.table[-1].value.set_index("variant")
    assert (
        t3.loc["full", "handmade test"] == "100.00" and t3.loc["baseline", "handmade test"] == "–"
    )
    # each shown table exports as CSV, Markdown and LaTeX
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("CSV") == labels.count("Markdown") == labels.count("LaTeX") == len(at.table)
    assert not at.error and not at.warning


def test_overview_table1_over_runs_for_a_repeated_variant(tmp_path):
    root = make_dump_tree(tmp_path / "dumps", with_images=False)
    at = run_app(root)
    assert not any(s.value.startswith("Table 1 over runs") for s in at.subheader)
    write_hand_dump(root / "full_val_seed1", "full", "val", preds="baseline")
    at = run_app(root)
    runs = table_by_title(at, "Table 1 over runs — handmade / val")
    full = runs[runs["statistic"] == "mean"].loc["full"]
    assert full["runs"] == "2" and full["All oIoU"] == f"{(100 * 17 / 37 + 100 * 24 / 34) / 2:.2f}"


def test_overview_shows_metrics_per_recorded_expression_type(root, tmp_path):
    kinds = {0: "attribute", 1: "attribute", 2: "relation", 3: "ordinal"}
    write_hand_dump(tmp_path / "typed" / "full_val", "full", "val", types=kinds)
    at = run_app(tmp_path / "typed")
    t = table_by_title(at, "Metrics per expression type — handmade / val")
    assert set(t.index) == {"full"}  # index: variant; then the type column
    t = t.set_index("expression_type")
    # full: attribute = samples 0, 1 → (4+0)/(4+4); relation 10/20; ordinal 3/9
    assert t.loc["attribute", "oIoU"] == "50.00" and t.loc["attribute", "n"] == "2"
    assert t.loc["relation", "oIoU"] == "50.00" and t.loc["ordinal", "oIoU"] == "33.33"
    # the hand dumps of `root` record no type: no such table
    assert not any("expression type" in h.value for h in run_app(root).subheader)


def test_sidebar_selection_filters_variants_and_splits(root):
    at = run_app(root)
    at.multiselect(key="variants").set_value(["full"]).run()
    at.multiselect(key="splits").set_value(["val"]).run()
    assert not at.exception
    titles = [s.value for s in at.subheader]
    assert "Table 1 — handmade / test" not in titles
    t1 = table_by_title(at, "Table 1 — handmade / val")
    assert list(t1.index) == ["full"]


def test_size_page_shows_figure7_and_buckets(root):
    at = run_app(root, "Size analysis")
    dist = table_by_title(at, "Figure 7 — object size distribution per split")
    assert dist.loc["val", "n small"] == "2" and dist.loc["val", "n total"] == "4"
    assert dist.loc["test", "share (%) big"] == "50.00"
    sizes = at.table[2].value  # val buckets
    assert [s.value for s in at.subheader][2] == "Metrics per size bucket — handmade / val"
    full_medium = sizes[(sizes["variant"] == "full") & (sizes["size_bin"] == "medium")]
    assert full_medium["oIoU"].item() == "33.33"
    assert len(at.get("plotly_chart")) == 1


def test_failure_cases_worst_first_with_images(root):
    at = run_app(root, "Failure cases")
    at.selectbox(key="fail_variant").set_value("full").run()
    listed = at.dataframe[-1].value
    # full, IoU ≤ 0.5, worst first: val#1 (0), val#3 (1/3), then the two 0.5s
    assert list(zip(listed["split"], listed["sample_id"])) == [
        ("val", 1),
        ("val", 3),
        ("test", 2),
        ("val", 2),
    ]
    assert listed["iou"].is_monotonic_increasing
    # the worst one is shown: gt, prediction, difference and the neighbour image
    assert len(at.image) == 4
    assert "Image not available" not in " ".join(i.value for i in at.info)
    assert any("the blue square in the middle" in m.value for m in at.markdown)

    at.text_input(key="fail_words").set_value("TALL bar").run()
    listed = at.dataframe[-1].value
    assert list(listed["sample_id"]) == [2, 2] and set(listed["size_bin"]) == {"big"}
    at.text_input(key="fail_words").set_value("").run()
    at.multiselect(key="fail_bins").set_value(["medium"]).run()
    assert list(at.dataframe[-1].value["sample_id"]) == [3]
    at.multiselect(key="fail_bins").set_value(["small", "medium", "big"]).run()
    at.slider(key="fail_iou").set_value((0.4, 1.0)).run()
    assert sorted(at.dataframe[-1].value["iou"]) == [0.5, 0.5, 1.0, 1.0]
    at.multiselect(key="fail_splits").set_value(["test"]).run()
    assert list(at.dataframe[-1].value["iou"]) == [0.5, 1.0]
    assert not at.exception


def test_failure_cases_without_images_show_masks_and_a_note(tmp_path):
    root = make_dump_tree(tmp_path / "dumps", with_images=False)
    at = run_app(root, "Failure cases")
    notes = " ".join(i.value for i in at.info)
    assert "Image not available" in notes and "showing the masks alone" in notes
    assert len(at.image) == 3  # gt, prediction, difference on a plain background


def test_relative_data_dir_is_found_from_the_dump_folder(tmp_path):
    from dumps_fixture import make_images

    make_images(tmp_path / "data")
    write_hand_dump(tmp_path / "dumps" / "full_val", "full", "val", data_dir="../../data")
    at = run_app(tmp_path / "dumps", "Failure cases")
    assert "Image not available" not in " ".join(i.value for i in at.info)
    assert len(at.image) == 4


def _synth_dump(out, refer, data_dir, variant, preds):
    """A real dump of ``refer``'s val split; ``preds(sample, gt)`` gives each prediction."""
    import numpy as np

    from tvnet.eval.dump import DumpWriter
    from tvnet.eval.metrics import RISEvaluator

    run = {"variant": variant, "split": "val",
           "dataset": {"name": refer.name, "data_dir": str(data_dir)}}  # fmt: skip
    with DumpWriter(out, run) as w:
        ev = RISEvaluator(variant, "val", dump=w)
        for s in refer.samples("val"):
            gt = refer.mask(s.ref_id)
            ev.process([{"pred": np.asarray(preds(s, gt), bool), "gt": gt,
                         "sample_id": s.sample_id, "ref_id": s.ref_id, "sent_id": s.sent_id,
                         "image_id": s.image_id, "sentence": s.sentence}])  # fmt: skip
        w.close(metrics=ev.evaluate())


def test_failure_modes_table_and_filter(tiny_synthref, tmp_path):
    import numpy as np

    refer, data = tiny_synthref["refer"], tiny_synthref["data"]
    ids = [s.sample_id for s in refer.samples("val")]
    odd = sum(i % 2 for i in ids)
    # full: the referent on odd samples, nothing on even ones; baseline: nothing at all
    _synth_dump(tmp_path / "d" / "full", refer, data, "full",
                lambda s, gt: gt if s.sample_id % 2 else np.zeros_like(gt))  # fmt: skip
    _synth_dump(tmp_path / "d" / "baseline", refer, data, "baseline", lambda s, gt: 0 * gt)
    at = run_app(tmp_path / "d", "Failure cases")
    t = table_by_title(at, f"Failure modes (% of samples) — {refer.name} / val")
    assert list(t.index) == ["baseline", "full"]
    assert t.loc["full", "n"] == str(len(ids)) and t.loc["baseline", "empty"] == "100.00"
    assert t.loc["full", "correct"] == f"{100 * odd / len(ids):.2f}"
    assert t.loc["full", "empty"] == f"{100 * (len(ids) - odd) / len(ids):.2f}"
    assert 0 < odd < len(ids)
    at.selectbox(key="fail_variant").set_value("full").run()
    at.slider(key="fail_iou").set_value((0.0, 1.0)).run()
    at.selectbox(key="fail_mode").set_value("empty").run()
    listed = at.dataframe[-1].value
    assert sorted(listed["sample_id"]) == sorted(i for i in ids if i % 2 == 0)
    assert set(listed["mode"]) == {"empty"}
    at.selectbox(key="fail_mode").set_value("correct").run()
    assert sorted(at.dataframe[-1].value["sample_id"]) == sorted(i for i in ids if i % 2)
    assert not at.exception


def test_word_use_table_per_cue(tiny_synthref, tmp_path):
    """A perfect model lights every referent and no other object; an empty one lights none."""
    from analysis.cues import cue_summary, sample_cues

    refer, data = tiny_synthref["refer"], tiny_synthref["data"]
    _synth_dump(tmp_path / "d" / "full", refer, data, "full", lambda s, gt: gt)
    _synth_dump(tmp_path / "d" / "baseline", refer, data, "baseline", lambda s, gt: 0 * gt)
    at = run_app(tmp_path / "d", "Failure cases")
    assert not at.exception
    t = table_by_title(at, f"Word use per cue — {refer.name} / val")
    assert list(t.index) == sorted(t.index, key=["baseline", "full"].index)
    full, base = t.loc["full"].set_index("cue"), t.loc["baseline"].set_index("cue")
    assert set(full["referent lit %"]) == {"100.00"}
    assert set(base["referent lit %"]) == {"0.00"}
    assert set(base["ruled out by this word alone: lit %"]) <= {"0.00", "–"}
    # the same numbers as analysis.cues on the dump's rows
    from tvnet import load_dumps

    rows = load_dumps(tmp_path / "d")[0]
    want = cue_summary(sample_cues(next(d for d in rows if d.variant == "full").samples, refer))
    assert list(full.index) == list(want.index)
    assert [int(x) for x in full["expressions"]] == list(want["expressions"])


def test_failure_modes_follow_the_dataset_folder_and_say_what_is_hidden(tiny_synthref, tmp_path):
    import numpy as np

    refer = tiny_synthref["refer"]
    data = tmp_path / "data"
    shutil.copytree(tiny_synthref["data"], data)
    n = len(refer.samples("val"))
    _synth_dump(tmp_path / "d" / "full", refer, data, "full", lambda s, gt: 0 * gt)
    refs = next(data.glob("refs*"))
    hidden = refs.rename(refs.with_name("hidden"))
    at = run_app(tmp_path / "d", "Failure cases")
    notes = " ".join(c.value for c in at.caption)
    assert "No failure modes" in notes and "refs" in notes
    hidden.rename(refs)  # the dataset comes back: the cached reason must not stick
    at.run()
    t = table_by_title(at, f"Failure modes (% of samples) — {refer.name} / val")
    assert t.loc["full", "empty"] == "100.00"
    # a second dump without a dataset: its rows have no mode and the filter says so
    write_hand_dump(tmp_path / "d" / "full_hand", "full", "val")
    at = run_app(tmp_path / "d", "Failure cases")
    at.selectbox(key="fail_variant").set_value("full").run()
    at.selectbox(key="fail_mode").set_value("empty").run()
    listed = at.dataframe[-1].value
    assert len(listed) == n and set(listed["mode"]) == {"empty"}
    text = " ".join(m.value for m in at.markdown)
    assert "have no failure mode (no dataset at hand) and are hidden" in text
    assert "names no dataset folder" in " ".join(c.value for c in at.caption)
    assert not at.exception and np.isfinite(n)


def test_failure_modes_need_the_dataset(root):
    at = run_app(root, "Failure cases")  # hand-made dumps: instances.json without refs
    notes = " ".join(c.value for c in at.caption)
    assert "No failure modes" in notes and "FileNotFoundError" in notes  # no refs file
    assert not any(s.value.startswith("Failure modes") for s in at.subheader)
    assert "fail_mode" not in [s.key for s in at.selectbox]  # no mode filter without modes
    assert len(at.dataframe) == 2  # the sample list still works (and the loaded-dumps table)


def test_variant_diff_counts_and_lists(root):
    at = run_app(root, "Variant diff")
    at.selectbox(key="diff_a").set_value("full").run()
    at.selectbox(key="diff_b").set_value("baseline").run()
    counts = at.table[0].value.set_index("IoU ≥ 0.5")
    assert counts.loc["full succeeds", "baseline fails"] == "1"  # sample 0
    assert counts.loc["full fails", "baseline succeeds"] == "1"  # sample 1
    assert counts.loc["full succeeds", "baseline succeeds"] == "1"  # sample 2
    assert counts.loc["full fails", "baseline fails"] == "1"  # sample 3
    listed = at.dataframe[-1].value
    assert list(listed["sample_id"]) == [0] and listed["Δ IoU"].item() == 1.0
    at.radio(key="diff_show").set_value("only baseline").run()
    assert list(at.dataframe[-1].value["sample_id"]) == [1]
    at.slider(key="diff_t").set_value(0.95).run()  # at 0.95: full 1 of 4, baseline 2 of 4
    counts = at.table[0].value.set_index("IoU ≥ 0.95")
    assert counts.loc["full fails", "baseline succeeds"] == "2"
    assert not at.exception


def test_broken_dumps_are_reported_and_others_still_load(tmp_path):
    root = make_dump_tree(tmp_path / "dumps", with_images=False)
    broken = add_broken_dumps(root)
    for page in PAGES:
        at = run_app(root, page)
        errors = [e.value for e in at.error]
        assert len(errors) == 3
        for name in broken:
            assert any(name in e for e in errors), (name, errors)
        assert any("missing column(s) union" in e for e in errors)
        assert any("run.json is missing" in e for e in errors)
        if page == "Overview":
            t1 = table_by_title(at, "Table 1 — handmade / val")
            assert t1.loc["full", "All oIoU"] == "45.95"


def test_empty_and_missing_folders_give_clear_messages(tmp_path):
    (tmp_path / "empty").mkdir()
    at = run_app(tmp_path / "empty")
    assert "No evaluation dumps" in at.warning[0].value
    at = run_app(tmp_path / "absent")
    assert "Dump folder not found" in at.error[0].value
    only_broken = tmp_path / "only_broken"
    only_broken.mkdir()
    (only_broken / "x").mkdir()
    (only_broken / "x" / "samples.parquet").write_bytes(b"junk")
    at = run_app(only_broken)
    assert len(at.error) == 1 and "run.json is missing" in at.error[0].value
    assert "No evaluation dumps" in at.warning[0].value


def test_cache_follows_file_changes(tmp_path):
    root = tmp_path / "dumps"
    write_hand_dump(root / "full_val", "full", "val")
    at = run_app(root)
    assert list(table_by_title(at, "Table 1 — handmade / val").index) == ["full"]
    write_hand_dump(root / "baseline_val", "baseline", "val")  # a new dump appears
    at.run()
    assert list(table_by_title(at, "Table 1 — handmade / val").index) == ["baseline", "full"]
    shutil.rmtree(root / "full_val")
    at.run()
    assert list(table_by_title(at, "Table 1 — handmade / val").index) == ["baseline"]


@pytest.mark.browser
@pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium and playwright")
def test_dashboard_in_a_real_browser(root):
    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    cmd = [sys.executable, "-m", "streamlit", "run", APP, "--server.headless", "true"]
    cmd += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    cmd += ["--", "--dumps", str(root)]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/_stcore/health", timeout_s=120, proc=proc)
        t0 = time.monotonic()
        shot = REPO / "test-artifacts" / "dashboard.png"
        text = screenshot(url, shot, wait_text="45.95", timeout_s=120)
        assert "Table 1 — handmade / val" in text and "70.59" in text
        assert shot.stat().st_size > 10_000 and time.monotonic() - t0 < 90
    finally:
        stop(proc)
        if proc.stdout:
            proc.stdout.close()
