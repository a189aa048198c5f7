"""A missing SynthRef folder, made again from the dumps' recipe: a background ``tvnet synth``
process (the public CLI) with its progress, then a check that the new files hold the dumps'
expressions (docs/design.md §4: one seed gives byte-identical files; §8, the dashboard).

The jobs live in the server process (module state, which the page's "Clear cache" leaves
alone), so a rerun, a second tab or a page switch sees the same job and never starts a second
one for one folder, even when two tabs click at the same moment (a lock around the look-up and
the start).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from apps.dashboard.data import REPO, SPLIT_KEYS, data_stamp

PROGRESS = re.compile(rb"(\d+)/(\d+)")


@dataclass
class Job:
    """One ``tvnet synth`` run writing ``out``."""

    out: str
    recipe: dict
    proc: subprocess.Popen
    total: int
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    tail: list[str] = field(default_factory=list)  # the last lines it printed
    seconds: float | None = None  # how long it took, once it ended

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def status(self) -> str:
        """ "Generating SynthRef: 3,600 / 8,000 expressions, 31 s, about 38 s left"."""
        spent = time.monotonic() - self.started
        text = f"Generating SynthRef: {self.done:,} / {self.total:,} expressions, {spent:.0f} s"
        if self.done and self.done < self.total:
            text += f", about {spent * (self.total - self.done) / self.done:.0f} s left"
        return text


# The server process's jobs, by folder, at module level rather than in st.cache_resource: the
# page's "Clear cache" empties that cache, and a job still running must not be forgotten.
_JOBS: dict[str, Job] = {}
# held while a job is looked up and started: each session runs its script in its own thread,
# so two tabs clicking at once would otherwise both start ``tvnet synth``
_STARTING = threading.Lock()


def _jobs() -> dict[str, Job]:
    return _JOBS


def _starting() -> threading.Lock:
    return _STARTING


def command(out: str, recipe: dict) -> list[str]:
    """The ``tvnet synth`` arguments that make ``out`` from ``recipe``."""
    cmd = ["tvnet", "synth", str(out), "--seed", str(recipe["seed"])]
    for split in SPLIT_KEYS:
        cmd += [f"--{split}", str(recipe[split])]
    return cmd


def command_text(out: str, recipe: dict) -> str:
    """:func:`command` as a person types it (the folder relative to the repository)."""
    cmd = command(shown_path(out), recipe)
    return shlex.join(cmd)


def shown_path(path: str) -> str:
    """``path`` relative to the repository when it lies inside it (as the docs write it)."""
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def job(out: str) -> Job | None:
    return _jobs().get(str(out))


def start(out: str, recipe: dict) -> Job:
    """Start ``tvnet synth`` for ``out`` unless a job for it runs already; returns the job."""
    jobs = _jobs()
    with _starting():
        current = jobs.get(str(out))
        if current is not None and current.running:
            return current
        # the folder as given (absolute): the server's working directory may be another
        cmd = [sys.executable, "-m", "tvnet", *command(out, recipe)[1:]]
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        new = Job(str(out), dict(recipe), proc, total=sum(int(recipe[s]) for s in SPLIT_KEYS))
        threading.Thread(target=_follow, args=(new,), daemon=True).start()
        jobs[str(out)] = new
    return new


def _follow(job: Job) -> None:
    """Read the process's output: tqdm's ``n/total`` updates give the progress."""
    buf = b""
    assert job.proc.stdout is not None
    while True:
        chunk = job.proc.stdout.read1(4096) if hasattr(job.proc.stdout, "read1") else b""
        if not chunk:
            break
        buf += chunk
        parts = re.split(rb"[\r\n]", buf)
        buf = parts.pop()
        for line in parts:
            line = line.strip()
            if not line:
                continue
            counts = PROGRESS.findall(line)
            if counts and b"synthref" in line:
                job.done = int(counts[-1][0])
            job.tail = [*job.tail[-19:], line.decode("utf-8", "replace")]
    if buf.strip():
        job.tail = [*job.tail[-19:], buf.decode("utf-8", "replace").strip()]
    job.proc.wait()
    job.seconds = time.monotonic() - job.started


@st.cache_data(max_entries=16, show_spinner=False)
def mismatch(data_dir: str, data_key: tuple, rows: pd.DataFrame) -> str | None:
    """Whether the refer folder ``data_dir`` holds the expressions of ``rows`` (sent_id,
    image_id, sentence): None when it does, else what differs, in a sentence."""
    del data_key  # only the cache key
    refs = next(Path(data_dir).glob("refs(*).json"), None)
    if refs is None:
        return f"{data_dir} has no refs(…).json"
    try:
        known: dict[int, tuple[int, set[str]]] = {}
        for ref in json.loads(refs.read_text(encoding="utf-8")):
            for s in ref.get("sentences", []):
                texts = {str(s.get(k)) for k in ("sent", "raw") if s.get(k) is not None}
                known[int(s["sent_id"])] = (int(ref["image_id"]), texts)
    except (OSError, ValueError, KeyError, TypeError) as e:
        return f"{refs} could not be read ({e})"
    bad = 0
    for sent_id, image_id, sentence in rows[["sent_id", "image_id", "sentence"]].itertuples(
        index=False
    ):
        image, texts = known.get(int(sent_id), (None, set()))
        bad += image != int(image_id) or str(sentence) not in texts
    if bad:
        return (
            f"{bad:,} of {len(rows):,} of the dumps' expressions are not in the regenerated "
            "data (another seed or other split sizes made them)"
        )
    return None


def check_rows(rows: pd.DataFrame, data_dir: str) -> str | None:
    """:func:`mismatch` of up to 500 of ``rows`` (every run's first rows) against
    ``data_dir``."""
    sample = rows.groupby("run", sort=False).head(max(1, 500 // max(1, rows["run"].nunique())))
    return mismatch(data_dir, data_stamp(data_dir), sample[["sent_id", "image_id", "sentence"]])
