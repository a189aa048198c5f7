"""tvnet/warmstart.py: the lineage of warm starts and grown models, in one place."""

import json
import subprocess
import sys
from pathlib import Path

from tvnet.warmstart import (
    checkpoint_init,
    lineage,
    start_label,
    training_budget,
    training_schedule,
)

ROOT = Path(__file__).resolve().parents[1]


def test_lineage_of_a_chain_of_warm_starts(tmp_path):
    base = {"checkpoint": "/r/a/last", "variant": "baseline", "step": 8000, "init": None}
    more = {"checkpoint": "/r/b/last", "variant": "baseline", "step": 6000, "init": base}
    grown = {"checkpoint": "/r/c/last", "variant": "full", "step": 3000, "init": more}
    # a full continued from a grown full still names the baseline it came from
    assert lineage(grown, "full") == (3, 17000, "baseline")
    assert start_label(grown, "full") == "grown from baseline"
    assert lineage(more, "baseline") == (2, 14000, None)
    assert start_label(more, "baseline") == "warm start"
    assert lineage(None, "full") == (0, 0, None) and start_label(None, "full") == ""
    # an adapter grown onto the network anywhere along the chain is named, not hidden
    adapted = {**more, "adapter_added": 64}
    assert start_label(adapted, "baseline") == "warm start, adapter added"
    later = {"checkpoint": "/r/d/last", "variant": "full", "step": 500, "init": adapted}
    assert start_label(later, "full") == "grown from baseline, adapter added"
    # a checkpoint written before config.json kept the record: its run's run.json has it
    ckpt = tmp_path / "run" / "last"
    ckpt.mkdir(parents=True)
    (tmp_path / "run" / "run.json").write_text(json.dumps({"init": more}))
    assert checkpoint_init(ckpt, {"format": "x"}) == more
    assert checkpoint_init(ckpt, {"init": None}) is None  # recorded: from scratch
    (tmp_path / "run" / "run.json").write_text("{not json")
    assert checkpoint_init(ckpt, {}) is None


def test_the_shipped_grown_default_knows_where_it_came_from():
    init = checkpoint_init(ROOT / "assets" / "checkpoints" / "full-grown")
    assert lineage(init, "full") == (3, 17000, "baseline")
    assert start_label(init, "full") == "grown from baseline"


def test_tvnet_lineage_stays_the_function_once_the_module_is_imported():
    """The public name ``tvnet.lineage`` is a function: no submodule of that name may shadow it."""
    code = "import tvnet, tvnet.warmstart; from tvnet import lineage; print(lineage(None, 'full'))"
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "(0, 0, None)"


def test_training_budget_and_schedule_count_the_whole_chain():
    """20000 × 8 on 17000 × 8 on 1000 × 8: 160,000 + 136,000 + 8,000 samples (a record
    without its batch size took the run's)."""
    oldest = {"checkpoint": "/r/a/last", "variant": "baseline", "step": 1000, "batch_size": 8}
    init = {"checkpoint": "/r/b/last", "variant": "baseline", "step": 17000, "init": oldest}
    run = {"train": {"steps": 20000, "batch_size": 8}, "init": init}
    assert training_budget(run) == 160000 + 136000 + 8000
    assert training_schedule(run) == "20,000 × 8 after 18,000 × 8 (warm start)"
    # from scratch, stopped at step 9000 of a 20000-step schedule: the step reached counts
    cut = {"train": {"steps": 20000, "batch_size": 8}, "step": 9000}
    assert training_budget(cut) == 72000 and training_schedule(cut) == "20,000 × 8"
    # the schedule names the batch of the newest warm start, or the run's own where that
    # record has none, as training_budget counts it: 1000 × 16 + 17000 × 16 + 1000 × 8
    mixed = {"train": {"steps": 1000, "batch_size": 16}, "init": init}
    assert training_budget(mixed) == 16000 + 17000 * 16 + 8000
    assert training_schedule(mixed) == "1,000 × 16 after 18,000 × 16 (warm start)"
    for unrecorded in ({}, {"train": {"steps": "many", "batch_size": 8}}, {"train": None}):
        assert training_budget(unrecorded) is None and training_schedule(unrecorded) == ""
