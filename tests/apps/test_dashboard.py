"""apps/dashboard (``streamlit run apps/dashboard/app.py``) driven by Streamlit's AppTest on
hand-made dumps (numbers in tests/dumps_fixture.py) and on broken ones, plus one real-browser
screenshot."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from dumps_fixture import add_broken_dumps, make_dump_tree, write_hand_dump
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "apps" / "dashboard" / "app.py")
PAGES = ["Overview", "Size analysis", "Failure cases", "Variant diff", "Calibration & influence"]


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


def tables_under(at: AppTest, title: str) -> list:
    """The st.tables between the subheader ``title`` and the next subheader, in page order."""
    titles = [s.value for s in at.subheader]
    assert title in titles, titles
    found, inside = [], False
    for node in at.main:
        kind = type(node).__name__
        if kind == "Subheader":
            inside = node.value == title
        elif kind == "Table" and inside:
            found.append(node.value)
    return found


def table_by_title(at: AppTest, title: str):
    """The st.table that follows the subheader ``title``; Table 1, shown as one table per
    subset (All, Small) so that it fits the page, comes back as one frame with the columns
    "All oIoU", "Small oIoU", … (the index and the other leading columns appear once)."""
    parts = tables_under(at, title)
    assert parts, title
    if not title.startswith("Table 1"):
        assert len(parts) == 1, (title, len(parts))
        df = parts[0]
        return df.set_index(df.columns[0])
    assert len(parts) == 2, (title, len(parts))  # All, then Small
    frames = []
    for subset, df in zip(("All", "Small"), parts):
        df = df.set_index(df.columns[0])
        keys = [c for c in df.columns if c in ("statistic", "runs")]
        rename = {c: f"{subset} {c}" for c in df.columns if c not in keys}
        frames.append(df.rename(columns=rename).drop(columns=keys if frames else []))
    return pd.concat(frames, axis=1)


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
    assert not any("expression type" in h.value for h in at.subheader)  # drawn when opened
    at.session_state["types_open"] = True  # the user opens "Metrics per expression type"
    at.run()
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
    # full, IoU < 0.5 (the two 0.5s are hits of Prec@0.5), worst first: val#1 (0), val#3 (1/3)
    assert list(zip(listed["split"], listed["sample_id"])) == [("val", 1), ("val", 3)]
    at.slider(key="fail_iou").set_value((0.0, 0.6)).run()
    listed = at.dataframe[-1].value
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
    # the split filter follows the sidebar: a split that leaves and comes back is chosen again
    at.multiselect(key="fail_splits").set_value(["val", "test"]).run()
    at.multiselect(key="splits").set_value(["val"]).run()
    assert at.multiselect(key="fail_splits").value == ["val"]
    at.multiselect(key="splits").set_value(["test", "val"]).run()
    assert sorted(at.multiselect(key="fail_splits").value) == ["test", "val"]
    assert not at.exception


def test_failure_word_filter_reads_what_the_model_read():
    from apps.dashboard.failure_cases import filter_failures

    rows = pd.DataFrame(
        {
            "iou": [0.1, 0.2, 0.3, 0.4],
            "size_bin": ["small"] * 4,
            "split": ["val"] * 4,
            "sample_id": [1, 2, 3, 4],
            "sentence": ["the crimson disk", "the red circle", "a tiny crimson box", "the box"],
            "read_as": ["the red circle", None, "a small red box", None],
        }
    )
    pick = lambda words: list(filter_failures(rows, (0, 1), ["small"], ["val"], words).sample_id)  # noqa: E731
    assert pick("crimson") == [1, 3]  # as written
    assert pick("red") == [1, 2, 3]  # as read, or as written
    assert pick("red circle") == [1, 2]  # every word, each as written or read
    assert pick("crimson small") == [3]  # one word from each text
    assert pick("blue") == []
    assert pick("box") == [3, 4]
    no_reading = rows.drop(columns="read_as")  # dumps written before the column
    assert list(filter_failures(no_reading, (0, 1), ["small"], ["val"], "red").sample_id) == [2]
    # [lo, hi): the default range (0, 0.5) leaves out an IoU of exactly 0.5, a hit of Prec@0.5;
    # a range up to 1 keeps a perfect mask
    edges = rows.assign(iou=[0.0, 0.49, 0.5, 1.0])
    assert list(filter_failures(edges, (0, 0.5), ["small"], ["val"], "").sample_id) == [1, 2]
    assert list(filter_failures(edges, (0.5, 1), ["small"], ["val"], "").sample_id) == [3, 4]


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


def _synth_dump(out, refer, data_dir, variant, preds, dataset_extra=None):
    """A real dump of ``refer``'s val split; ``preds(sample, gt)`` gives each prediction;
    ``dataset_extra`` adds run.json ``dataset`` fields (e.g. the SynthRef seed and sizes)."""
    import numpy as np

    from tvnet.eval.dump_writer import DumpWriter
    from tvnet.eval.metrics import RISEvaluator

    run = {"variant": variant, "split": "val",
           "dataset": {"name": refer.name, "data_dir": str(data_dir), **(dataset_extra or {})}}  # fmt: skip
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
    assert not at.exception


def test_a_dump_of_a_refs_file_in_a_folder_of_several_schemes_finds_its_data(
    tiny_synthref, tmp_path
):
    """RefCOCO's folders hold two refs files: a dump evaluated with --data DIR/refs(X).json
    records that file, and the dashboard reads the folder's images and the chosen scheme."""
    from tvnet.data.refer import open_refer

    data = tmp_path / "data"
    shutil.copytree(tiny_synthref["data"], data)
    refs = next(data.glob("refs(*).json"))
    shutil.copy(refs, data / "refs(other).json")  # a second scheme beside it
    refer = open_refer(refs)
    assert refer.name.endswith(f"_{refer.split_by}")  # named with its scheme
    _synth_dump(tmp_path / "d" / "full", refer, refs, "full", lambda s, gt: 0 * gt)
    at = run_app(tmp_path / "d", "Failure cases")
    t = table_by_title(at, f"Failure modes (% of samples) — {refer.name} / val")
    assert t.loc["full", "empty"] == "100.00"
    assert "Image not available" not in " ".join(i.value for i in at.info)
    assert len(at.image) > 0
    assert not at.exception


def test_failure_modes_need_the_dataset(root):
    at = run_app(root, "Failure cases")  # hand-made dumps: instances.json without refs
    at.session_state["loaded_dumps"] = True  # open "Loaded dumps": its table is drawn then
    at.run()
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


def test_variant_diff_counts_one_split_at_a_time(tmp_path):
    """With val and test of both variants loaded, the 2×2 table used to add the splits up
    under a title that named neither: now it is one dataset and split, val first, and its
    title says which and over how many samples."""
    root = make_dump_tree(tmp_path / "dumps", with_images=False)
    write_hand_dump(root / "baseline_test", "baseline", "test", samples=(0, 2))
    at = run_app(root, "Variant diff")
    at.selectbox(key="diff_a").set_value("full").run()
    at.selectbox(key="diff_b").set_value("baseline").run()
    assert at.selectbox(key="diff_split").value == ("handmade", "val")
    counts = at.table[0].value.set_index("IoU ≥ 0.5").astype(int)
    assert counts.to_numpy().sum() == 4  # val's four samples, not val's and test's six
    assert "handmade · val (4 samples)" in " ".join(s.value for s in at.subheader)
    at.selectbox(key="diff_split").set_value(("handmade", "test")).run()
    counts = at.table[0].value.set_index("IoU ≥ 0.5").astype(int)
    assert counts.to_numpy().sum() == 2
    assert counts.loc["full succeeds", "baseline succeeds"] == 1  # sample 2, as on val
    assert counts.loc["full succeeds", "baseline fails"] == 1  # sample 0
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
    at = run_app("  ")  # a cleared box: no folder, not the server's working folder
    assert "Give a folder of evaluation dumps" in at.info[0].value and not at.error
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


def test_exports_round_to_the_digits_shown():
    from apps.dashboard.display import export_text

    t = pd.DataFrame({"Prec@0.9": [8.799999999999999, 100 / 3]}, index=["full", "res"])
    csv = export_text(t, "CSV")
    assert "8.8\n" in csv.replace("\r", "") and "33.33" in csv
    assert "8.7999" not in csv and "33.333" not in csv
    assert "| 8.80 |" in export_text(t, "Markdown") and "8.80" in export_text(t, "LaTeX")
    # per-sample columns keep the digits the sample list shows: IoU 3, area fraction 4
    rows = pd.DataFrame({"iou": [1 / 3], "gt_area_frac": [0.012345678], "inter": [4]})
    csv = export_text(rows, "CSV")
    assert "0.333," in csv and "0.0123," in csv and csv.rstrip().endswith(",4")
    assert "| 0.333 | 0.0123 | 4 |" in export_text(rows, "Markdown")


def test_overview_curves_are_analysis_figures_numbers(root):
    import numpy as np

    from analysis import figures
    from apps.dashboard.overview import curve_data
    from tvnet import load_dumps

    rows = pd.concat([d.samples for d in load_dumps(root)[0] if d.split == "val"])
    got = {v: (prec, hist) for v, prec, hist, _ in curve_data(rows)}
    curve, hist = figures.prec_curve(rows), figures.iou_histogram(rows)
    for v in ("baseline", "full"):
        np.testing.assert_allclose(got[v][0], curve[curve["variant"] == v]["prec (%)"])
        np.testing.assert_allclose(got[v][1], hist[hist["variant"] == v]["share (%)"])
    at = run_app(root)
    charts = [m.value for m in at.markdown if "<svg" in m.value]
    assert len(charts) == 4 and not at.get("plotly_chart")  # inline SVG, no chart library
    # full / val, Prec@0.5 = 50 % (hand-computed in tests/dumps_fixture.py), on hover
    assert any("full: Prec@0.50 = 50.0 % (n = 4)" in c for c in charts)


def _budget_dumps(root):
    """baseline and full 4,000 × 8 from scratch; a warm-started baseline and a grown full,
    each 1,000 × 8 after 19,000 × 8 (160,000 samples)."""
    scratch = {"train": {"steps": 4000, "batch_size": 8}}
    chain = {"step": 19000, "batch_size": 8, "init": None}
    write_hand_dump(root / "baseline", "baseline", "val", run_extra=scratch)
    write_hand_dump(root / "full", "full", "val", run_extra=scratch)
    more = {"train": {"steps": 1000, "batch_size": 8}}
    write_hand_dump(root / "baseline_more", "baseline", "val", preds="full",
                    run_extra={**more, "init": {**chain, "variant": "baseline"}})  # fmt: skip
    took = {"runs": [{"from_step": 0, "to_step": 1000, "wall_s": 600.0, "batch_size": 8,
                      "processor": "CPU X", "precision": "bf16 autocast"}],
            "wall_s": 600.0, "samples": 8000, "samples_per_s": 8000 / 600}  # fmt: skip
    write_hand_dump(root / "grown", "full", "val", preds="baseline",
                    run_extra={**more, "init": {**chain, "variant": "baseline"},
                               "training_time": took})  # fmt: skip
    return root


def test_variant_diff_default_pair_leaves_out_answers_scored_otherwise(tmp_path):
    """A mirror-averaged run of the shared budget is not the default A against a baseline
    scored with single answers (they would differ by the scoring); it stays selectable."""
    root = tmp_path / "d"
    scratch = {"train": {"steps": 4000, "batch_size": 8}}
    mirror = {"protocol": {"threshold": 0.5, "resolution": "original", "name": "cmpc",
                           "mirror": True}}  # fmt: skip
    write_hand_dump(root / "baseline", "baseline", "val", run_extra=scratch)
    write_hand_dump(root / "full", "full", "val", preds="baseline", run_extra=scratch)
    write_hand_dump(root / "full_mirror", "full", "val", run_extra={**scratch, **mirror})
    at = run_app(root, "Variant diff")
    assert not at.exception
    assert (at.selectbox(key="diff_a").value, at.selectbox(key="diff_b").value) == (
        "full",
        "baseline",
    )
    assert "full (mirror averaged)" in at.selectbox(key="diff_a").options


def test_variant_diff_pairs_equal_training_budgets(tmp_path):
    at = run_app(_budget_dumps(tmp_path / "d"), "Variant diff")
    assert at.selectbox(key="diff_a").value == "full (grown from baseline)"
    assert at.selectbox(key="diff_b").value == "baseline (warm start)"
    notes = " ".join(c.value for c in at.caption)
    assert "Equal training budgets: 160,000 samples each" in notes
    # grown full predicts like the hand-made baseline and the warm start like full
    counts = at.table[0].value.set_index("IoU ≥ 0.5")
    assert counts.loc["full (grown from baseline) succeeds", "baseline (warm start) fails"] == "1"
    at.selectbox(key="diff_b").set_value("baseline").run()
    assert "saw 5.0× the samples of baseline (160,000 vs 32,000)" in " ".join(
        c.value for c in at.caption
    )
    # the budgets are listed with the loaded dumps
    at.session_state["loaded_dumps"] = True
    at.run()
    listed = at.dataframe[0].value.set_index("run")
    assert listed.loc["grown", "training samples"] == 160000
    assert listed.loc["grown", "schedule"] == "1,000 × 8 after 19,000 × 8 (warm start)"
    # and how long and where each trained, where its checkpoint recorded it
    assert listed.loc["grown", "training"] == "10 min at 13.3 samples/s, CPU X, bf16 autocast"
    assert listed.loc["baseline", "training"] == ""


def _trust_dump(root):
    """The hand-made full/val dump with confidences 0.9, 0.1, 0.8, 0.3 (right: IoU 1, 0,
    0.5, 1/3 ≥ 0.5 → yes, no, yes, no), the gate-closed masks empty (I = 0, U = gt area, IoU
    with the answer 0, or 1 for the empty answer of sample 1) and the random neighbour's masks
    equal to the answers but sample 0's, which misses its referent (I 0, U 8)."""
    from tvnet.eval.dump import load_dump
    from tvnet.eval.dump_writer import update_dump

    out = write_hand_dump(root / "full_val", "full", "val")
    rows = load_dump(out).samples
    gt_area = (rows["gt_area_frac"] * 100).round().astype(int).tolist()
    update_dump(out, {
        "score": [0.7, 0.4, 0.6, 0.5], "confidence": [0.9, 0.1, 0.8, 0.3],
        "nogate_inter": [0] * 4, "nogate_union": gt_area, "nogate_iou": [0.0, 1.0, 0.0, 0.0],
        "randnb_inter": [0, 0, 10, 3], "randnb_union": [8, 4, 20, 9],
        "randnb_iou": [0.0, 1.0, 1.0, 1.0]})  # fmt: skip
    write_hand_dump(root / "baseline_val", "baseline", "val")  # an older dump: no columns
    return root


def test_calibration_and_influence_page_holds_the_hand_computed_numbers(tmp_path):
    at = run_app(_trust_dump(tmp_path / "d"), "Calibration & influence")
    cal = table_by_title(at, "Calibration per variant")
    full = cal[cal["split"] == "val"].loc["full"]
    assert full["accuracy (%)"] == "50.00" and full["mean confidence (%)"] == "52.50"
    # ECE over the bins 0.9 → right, 0.1 → wrong, 0.8 → right, 0.3 → wrong: (.1+.1+.2+.3)/4
    assert full["ECE (%)"] == "17.50" and full["with confidence"] == "4"
    assert cal.loc["baseline", "ECE (%)"] == "–"  # no confidence in the older dump
    assert any("of those with a confidence where a row has any" in c.value for c in at.caption)
    diagrams = [m.value for m in at.markdown if "<svg" in m.value]
    assert len(diagrams) == 1 and "Reliability — val" in diagrams[0]
    assert (
        "full: confidence 0.8–0.9: 1 answers, mean confidence 80.0 %, right 100.0 %"
        in (diagrams[0])
    )
    infl = table_by_title(at, "What the neighbour changes (%)").loc["full"]
    assert infl["oIoU"] == "45.95" and infl["oIoU gate closed"] == "0.00"  # 17/37; 0/(4+4+20+6)
    # random: 13/41 = 31.71, the answers' 45.95 minus that
    assert infl["gain from nb."] == "45.95" and infl["gain over random"] == "14.24"
    assert infl["same mask, gate closed"] == "25.00" and infl["changed"] == "75.00"
    assert infl["same mask, random nb."] == "75.00"
    # the older dump is named once, with the command that writes the columns
    notes = [w.value for w in at.warning]
    assert len(notes) == 1 and "`baseline_val`" in notes[0] and "full_val" not in notes[0]
    assert not at.exception


def test_a_mirror_averaged_dump_is_not_flagged_and_reruns_keep_their_protocol(tmp_path):
    """`tvnet eval --mirror` writes no influence columns by design: such a dump is not listed
    as lacking them (the command offered would have replaced it with a plain dump); a dump of
    another protocol is written again with its own flags."""
    from apps.dashboard.data import dump_stamp, load_all
    from apps.dashboard.trust import rerun_commands
    from tvnet.eval.dump import load_dump
    from tvnet.eval.dump_writer import update_dump

    root = tmp_path / "d"
    mirror = {"protocol": {"threshold": 0.5, "resolution": "original", "name": "cmpc",
                           "mirror": True}}  # fmt: skip
    out = write_hand_dump(root / "full_mirror_val", "full", "val", run_extra=mirror)
    update_dump(out, {"score": [0.7, 0.4, 0.6, 0.5], "confidence": [0.9, 0.1, 0.8, 0.3]})
    assert load_dump(out).mirror
    at = run_app(root, "Calibration & influence")
    assert "no neighbour influence" not in " ".join(w.value for w in at.warning)
    # its row in the influence table is empty, and the caption says why
    assert any("a mirror-averaged run" in c.value for c in at.caption)
    assert not at.exception
    # a protocol that does not say it is custom (hand-written, older) is read by its values
    custom = {"protocol": {"threshold": 0.4, "resolution": "input"}}
    write_hand_dump(root / "full_t04", "full", "val", run_extra={**custom, "checkpoint": "."})
    info = load_all(str(root), ())[1]
    mirror_info = [{**d, "checkpoint_path": "."} for d in info]
    cmds = rerun_commands(["full_mirror_val", "full_t04"], mirror_info, str(root))
    by_run = {c.rsplit(" ", 1)[-1].split("/")[-1]: c for c in cmds}
    assert (
        "--mirror" in by_run["full_mirror_val"] and "--threshold" not in by_run["full_mirror_val"]
    )
    assert "--threshold 0.4 --resolution input" in by_run["full_t04"]
    assert "--mirror" not in by_run["full_t04"]
    # and the custom protocol's rows are named by it, never a second seed of "full"
    names = {load_dump(root / r).name for r in ("full_mirror_val", "full_t04")}
    assert names == {"full (mirror averaged)", "full (threshold 0.4, input resolution)"}
    # a part of the split, words as written: written again as such (not over it as a whole
    # split read through the lexicon)
    part = {"split_size": 10, "reading": {"literal": True}, "checkpoint_hash": "p" * 64}
    write_hand_dump(root / "full_part", "full", "val", run_extra=part)
    info = load_all(str(root), dump_stamp(str(root)))[1]  # the stamp: a new dump, read anew
    (cmd,) = rerun_commands(["full_part"], [{**d, "checkpoint_path": "."} for d in info], str(root))
    assert "--limit 4 --literal --out " in cmd and cmd.endswith("/full_part")
    # a dump that records no split is not rewritten as a val evaluation
    nosplit = [{**d, "checkpoint_path": ".", "split": ""} for d in info if d["run"] == "full_part"]
    (cmd,) = rerun_commands(["full_part"], nosplit, str(root))
    assert "--split SPLIT " in cmd
    # a root that is itself one dump: the command writes over that folder, not one inside it
    one = load_all(str(root / "full_part"), ())[1]
    one = [{**d, "checkpoint_path": "."} for d in one]
    (cmd,) = rerun_commands([one[0]["run"]], one, str(root / "full_part"))
    assert cmd.endswith(str(root / "full_part")), cmd


def test_calibration_page_on_older_dumps_says_so_once(root):
    at = run_app(root, "Calibration & influence")
    assert len(at.warning) == 1 and "before the confidence and influence columns" in (
        at.warning[0].value
    )
    assert "No selected dump records a confidence" in " ".join(i.value for i in at.info)
    assert not at.exception


def test_missing_synthref_is_said_once_with_its_command(tmp_path):
    root = tmp_path / "dumps"
    recipe = {"seed": 3, "sizes": {"train": 0, "val": 4, "test": 0}}
    for v in ("full", "baseline"):
        for split in ("val", "test"):
            write_hand_dump(root / f"{v}_{split}", v, split, data_dir=tmp_path / "gone")
            run = json.loads((root / f"{v}_{split}" / "run.json").read_text())
            run["dataset"] = {**run["dataset"], "name": "synthref", **recipe}
            (root / f"{v}_{split}" / "run.json").write_text(json.dumps(run))
    at = run_app(root, "Failure cases")
    notes = [w.value for w in at.warning]
    assert len(notes) == 1, notes
    assert f"tvnet synth {tmp_path / 'gone'} --seed 3 --train 0 --val 4 --test 0" in notes[0]
    assert "4 of the selected dumps" in notes[0]
    assert [b.label for b in at.button] == ["Regenerate SynthRef (4 expressions)"]
    text = " ".join([*(c.value for c in at.caption), *(i.value for i in at.info)])
    assert str(tmp_path / "gone") not in text  # the folder is named in the note only
    assert text.count("see the note above") <= 3  # failure modes, image, neighbour image
    assert len(at.image) == 3  # the masks, on grey


def test_two_tabs_clicking_at_once_start_one_regeneration(tmp_path):
    """Each Streamlit session runs in its own thread: eight clicks at the same moment for one
    folder start one ``tvnet synth`` and all get that job."""
    import threading

    from apps.dashboard import regenerate

    recipe = {"seed": 5, "train": 0, "val": 2, "test": 0}
    out = str(tmp_path / "synthref")
    gate = threading.Barrier(8)
    got = []

    def click():
        gate.wait()
        got.append(regenerate.start(out, recipe))

    threads = [threading.Thread(target=click) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 8 and len({id(j) for j in got}) == 1
    got[0].proc.wait(timeout=300)
    assert got[0].returncode == 0


def test_regeneration_job_reports_progress_and_checks_the_result(tmp_path):
    """`tvnet synth` in the background: its progress read from its output, and the new
    folder checked against the dumps' expressions (right recipe: match; another seed: not)."""
    from apps.dashboard import regenerate
    from tvnet.data.refer import open_refer

    recipe = {"seed": 5, "train": 0, "val": 6, "test": 0}
    out = tmp_path / "synthref"
    job = regenerate.start(str(out), recipe)
    assert regenerate.start(str(out), recipe) is job or not job.running  # one job per folder
    job.proc.wait(timeout=300)
    deadline = time.monotonic() + 30
    while job.seconds is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the reader thread sees the end of the output
    assert job.returncode == 0, job.tail
    assert (job.done, job.total, job.fraction) == (6, 6, 1.0)
    rows = pd.DataFrame(
        [(s.sent_id, s.image_id, s.sentence, "r") for s in open_refer(out).samples("val")],
        columns=["sent_id", "image_id", "sentence", "run"],
    )
    assert regenerate.check_rows(rows, str(out)) is None
    other = tmp_path / "other"
    regenerate.start(str(other), {**recipe, "seed": 6}).proc.wait(timeout=300)
    assert "of the dumps' expressions are not in the regenerated data" in (
        regenerate.check_rows(rows, str(other))
    )


def test_an_image_file_name_that_leaves_the_images_folder_is_not_read(tmp_path):
    """A dump's dataset names each image by a file of its images/ folder: an absolute name or
    one with ".." would let a shipped instances.json show any image the server can read."""
    from PIL import Image

    from apps.dashboard.data import load_image

    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    Image.new("RGB", (4, 3), (9, 9, 9)).save(data / "images" / "ok.png")
    Image.new("RGB", (4, 3), (200, 0, 0)).save(tmp_path / "secret.png")
    names = ["ok.png", "../secret.png", str(tmp_path / "secret.png"), "..\\secret.png"]
    images = [{"id": i, "file_name": n, "height": 3, "width": 4} for i, n in enumerate(names)]
    (data / "instances.json").write_text(json.dumps({"images": images, "annotations": []}))
    img, why = load_image(str(data), 0)
    assert img is not None and img.shape == (3, 4, 3) and why == ""
    for i in (1, 2, 3):
        img, why = load_image(str(data), i)
        assert img is None and "outside its images folder" in why, (names[i], why)


def test_the_diffs_budget_note_says_when_a_variants_runs_differ():
    """A row name whose runs (on two datasets) were trained for different budgets is said so,
    not "budget not recorded"."""
    from apps.dashboard.diff import budget_note, mixed_budgets, variant_budgets

    info = [
        {"variant": "full", "budget": 240_000, "run": "a"},
        {"variant": "full", "budget": 480_000, "run": "b"},
        {"variant": "baseline", "budget": 480_000, "run": "c"},
        {"variant": "res", "run": "d"},
    ]
    variants = ["baseline", "res", "full"]
    budgets = variant_budgets(info, variants)
    assert budgets == {"baseline": 480_000, "res": None, "full": None}
    assert mixed_budgets(info, variants) == {"full"}
    note = budget_note("full", "baseline", budgets, mixed_budgets(info, variants))
    assert "runs of full were trained for different budgets" in note
    assert "not recorded for res" in budget_note("res", "baseline", budgets, {"full"})


def test_a_data_dir_under_an_unknown_home_folder_is_read_as_written():
    """run.json's dataset.data_dir of "~nosuchuser/x" made Path.expanduser raise inside the
    cached loader, and the whole dashboard failed with it."""
    from apps.dashboard.data import resolve_data_dir

    got = resolve_data_dir("~tvnet-no-such-user/x", Path("."))
    assert got is not None and got.endswith("~tvnet-no-such-user/x")
