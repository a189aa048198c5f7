"""What a run records of the machine it ran on (tvnet/record.py)."""

import pytest

from tvnet.record import (
    STALL_MIN_S,
    StallClock,
    cpu_model,
    summary,
    totals,
    training_time,
)

ZEN4 = """processor	: 0
vendor_id	: AuthenticAMD
cpu family	: 25
model		: 17
model name	: AMD EPYC
flags		: fpu sse2 avx2 avx512f avx512bw avx512_bf16 vaes

processor	: 1
model name	: something else
"""
ZEN2 = "cpu family\t: 23\nmodel\t\t: 49\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx avx2 fma\n"
OLD = "model name\t: Some CPU\nflags\t\t: fpu sse2 avx\n"
GRAVITON3 = """processor\t: 0
BogoMIPS\t: 2100.00
Features\t: fp asimd evtstrm aes sha3 sve asimdfhm bf16 i8mm
CPU implementer\t: 0x41
CPU part\t: 0xd40
"""


def test_the_cpu_is_named_with_what_tells_the_machines_apart():
    # one EPYC name, two machines about 3× apart: family, model and vector extensions say which
    assert cpu_model(ZEN4) == "AMD EPYC (family 25 model 17; AVX512-BF16)"
    assert cpu_model(ZEN2) == "AMD EPYC (family 23 model 49; AVX2, no AVX-512)"
    assert cpu_model(OLD) == "Some CPU (no AVX2)"
    assert cpu_model("model name\t: Arm thing\n") == "Arm thing"  # no flags: nothing claimed
    # Arm names no model: the implementer and part, and bf16 / SVE from its features
    arm = "Arm CPU (implementer 0x41, part 0xd40)"
    assert cpu_model(GRAVITON3) == f"{arm} (BF16)"
    assert cpu_model(GRAVITON3.replace(" bf16", "")) == f"{arm} (SVE, no bf16)"
    assert (
        cpu_model(GRAVITON3.replace(" sve", "").replace(" bf16", "")) == f"{arm} (no SVE or bf16)"
    )
    assert cpu_model("bogus\n") == "unknown CPU"  # text given: never this machine's name
    assert cpu_model().strip()  # this machine's, whatever it is


def test_training_time_sums_the_runs_of_a_resumed_training():
    first = {"from_step": 0, "to_step": 100, "wall_s": 40.0, "batch_size": 8}
    second = {"from_step": 100, "to_step": 300, "wall_s": 60.0, "batch_size": 8}
    t = training_time(training_time(None, first), second)
    assert t["runs"] == [first, second]
    assert (t["wall_s"], t["samples"], t["samples_per_s"]) == (100.0, 2400, 24.0)


def test_a_step_far_longer_than_the_typical_one_counts_as_suspended_beyond_it():
    clock = StallClock()
    for seconds in (2.0, 1.0, 1.0):  # the first step (warm-up) only sets the typical time
        clock.step(seconds)
    typical = 0.9 * (0.9 * 2.0 + 0.1 * 1.0) + 0.1 * 1.0  # 1.81
    clock.step(100.0)  # suspended (SIGSTOP): over both 30 s and 20 × typical
    assert clock.stalled_s == pytest.approx(100.0 - typical)
    clock.step(1.0)
    clock.step(STALL_MIN_S - 1)  # 29 s: slow, but under 30 s and 20 × typical (34.6)
    assert clock.stalled_s == pytest.approx(100.0 - typical)
    quick = StallClock()  # 0.1 s steps: a 10 s step is 100 × typical but under 30 s
    for seconds in (0.1, 0.1, 10.0):
        quick.step(seconds)
    assert quick.stalled_s == 0.0
    slow = StallClock()  # a slow machine's steps (10 s): 150 s is under 20 × 10, 250 s is not
    for seconds in (10.0, 10.0, 150.0):
        slow.step(seconds)
    assert slow.stalled_s == 0.0
    typical = 0.9 * (0.9 * 10.0 + 0.1 * 10.0) + 0.1 * 150.0  # 24.0: the 150 s step counted
    slow.step(20 * typical + 10.0)
    assert slow.stalled_s == pytest.approx(19 * typical + 10.0)


def test_long_steps_in_a_row_are_a_slower_machine_not_a_suspension():
    clock = StallClock()
    for seconds in (1.0, 1.0):
        clock.step(seconds)
    clock.step(60.0)  # one long step: suspended, as far as anyone can tell yet
    assert clock.stalled_s == pytest.approx(59.0)
    clock.step(60.0)
    clock.step(60.0)  # the third in a row: the steps got slower (swapping); none counted
    assert clock.stalled_s == 0.0
    clock.step(61.0)  # and 60 s is the typical step now
    assert clock.stalled_s == 0.0
    clock.step(60.0 * 20 + 100)  # a suspension of a slow run, then a normal step: counted
    clock.step(60.0)
    assert clock.stalled_s == pytest.approx(60.0 * 20 + 100 - (0.9 * 60.0 + 0.1 * 61.0))


def test_samples_per_second_leave_out_the_time_suspended():
    old = {"from_step": 0, "to_step": 100, "wall_s": 40.0, "batch_size": 8}  # no stalled_s
    new = {"from_step": 100, "to_step": 300, "wall_s": 160.0, "stalled_s": 100.0, "batch_size": 8}
    t = training_time(training_time(None, old), new)
    assert (t["wall_s"], t["stalled_s"], t["samples"]) == (200.0, 100.0, 2400)
    assert t["samples_per_s"] == pytest.approx(2400 / 100.0)
    t["runs"] = [{**r, "processor": "CPU X", "precision": "fp32"} for r in t["runs"]]
    assert summary(t) == "3 min, 2 of them suspended, at 24.0 samples/s, CPU X, fp32"
    assert summary({**t, "samples_per_s": None}) == "3 min, 2 of them suspended, CPU X, fp32"
    brief = {**new, "wall_s": 100.0, "stalled_s": 50.0, "processor": "CPU X", "precision": "fp32"}
    assert summary(training_time(None, brief)).endswith(": 2 min at 32.0 samples/s, CPU X, fp32")
    # a record from before the count: nothing said of it, and none assumed (totals: None)
    legacy = {"runs": [{**old, "processor": "CPU X", "precision": "fp32"}], "wall_s": 40.0,
              "samples": 800, "samples_per_s": 20.0}  # fmt: skip
    assert summary(legacy) == "1 min at 20.0 samples/s, CPU X, fp32"
    assert totals(legacy)["stalled_s"] is None
    # a hand-damaged earlier run's count is read as 0 on resume, not a failed checkpoint
    t = training_time({"runs": [{**old, "stalled_s": "x"}]}, new)
    assert t["stalled_s"] == 100.0
