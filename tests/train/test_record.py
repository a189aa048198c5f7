"""What a run records of the machine it ran on (tvnet/train/record.py)."""

from tvnet.train.record import cpu_model, training_time

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
