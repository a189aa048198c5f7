"""Calls from the page's process to the handlers in the model worker (docs/design.md §7, "The
demo").

Why two processes: starting the demo is mostly importing (gradio ≈ 2 s of CPU; torch, the
model code and the retrieval encoders ≈ 4 s) and Python imports hold the GIL, so a thread
cannot overlap them, while a second process runs them on the other core. The page's process
imports gradio and serves the page; the worker (:mod:`apps.demo.worker`) loads the model and
runs every handler (:class:`apps.demo.handlers.Handlers`), drawing its pictures into a folder
the page's process owns. Each calling thread has its own connection, an authenticated
``multiprocessing.connection`` over a Unix socket in a private folder; the worker answers each
connection in a thread of its own (the models' locks serialise the model calls).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
AUTHKEY_ENV = "TVNET_DEMO_AUTHKEY"  # the worker's key, hex (the environment, not argv)
SOCKET_MAX = 100  # a Unix socket's path is at most 107 bytes on Linux
CALL_TIMEOUT = 300.0  # seconds; a call waits for the model's first load (≈ 5–15 s) at most


class WorkerError(RuntimeError):
    """The worker is gone or could not answer."""


def serve(target: Any, address: str, authkey: bytes) -> None:
    """Answer calls ``(method, args, kwargs)`` on ``target`` forever, a thread per connection."""
    listener = Listener(address, family="AF_UNIX", authkey=authkey)
    while True:
        try:
            conn = listener.accept()
        except (OSError, EOFError, AuthenticationError):  # a client that failed the handshake
            continue
        threading.Thread(target=_answer, args=(target, conn), daemon=True).start()


def _answer(target: Any, conn) -> None:
    with conn:
        while True:
            try:
                name, args, kwargs = conn.recv()
            except (EOFError, OSError):
                return
            try:
                if name.startswith("_"):
                    raise AttributeError(f"{name} is not a handler")
                reply = ("ok", getattr(target, name)(*args, **kwargs))
            except Exception as e:  # the handlers catch their own; this is a programming error
                reply = ("error", f"{type(e).__name__}: {e}")
            try:
                conn.send(reply)
            except Exception as e:  # an answer that does not pickle
                conn.send(("error", f"{name} returned what cannot be sent: {e}"))


class Worker:
    """The model worker process, and its handlers as methods of this object (each call goes
    to the worker; one connection per calling thread).

    ``argv``: the worker's model arguments (``--checkpoint`` …); ``pictures``: the folder it
    draws into (removed by the caller). ``call_timeout``: seconds a call may wait for its
    answer; a worker that does not answer in time (hung) is killed and started again, so
    that one stuck call cannot hold the page's queue for ever."""

    def __init__(self, argv: list[str], pictures: str | Path, call_timeout: float = CALL_TIMEOUT):
        self.argv, self.pictures, self.call_timeout = list(argv), str(pictures), call_timeout
        self.restarts = 0  # how often a hung worker was replaced
        self._lock = threading.Lock()  # the process, its address and key change together
        self._local = threading.local()
        self._start()

    def _start(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="tvnet-worker-")
        if len(self.dir) > SOCKET_MAX - 8:  # a long $TMPDIR: the socket goes to /tmp
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = tempfile.mkdtemp(prefix="tvnet-worker-", dir="/tmp")
        self.address = os.path.join(self.dir, "sock")
        self.authkey = secrets.token_bytes(32)
        cmd = [sys.executable, "-m", "apps.demo.worker", "--address", self.address]
        cmd += ["--pictures", self.pictures, *self.argv]
        env = {**os.environ, AUTHKEY_ENV: self.authkey.hex()}
        # stdin stays open while this process lives: the worker exits at its end of file, so
        # it never outlives the page, even one that was killed. Its own process group: a
        # terminal's Ctrl-C reaches the page only, which ends the worker through that end of
        # file (never mid-call, no traceback of its own)
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.PIPE, process_group=0)

    def alive(self) -> bool:
        """Whether a worker runs (a hung one being replaced counts as running)."""
        with self._lock:
            return self.proc.poll() is None

    def _replace(self, proc: subprocess.Popen) -> None:
        """Kill ``proc`` (a worker that did not answer in time) and start another, unless
        another thread has replaced it already. SIGKILL: the worker's own clean-up would remove
        the pictures folder, which the page and the next worker still use."""
        with self._lock:
            if self.proc is not proc:
                return
            proc.kill()
            proc.wait()
            self._restart()

    def revive(self) -> None:
        """Start another worker in place of one that died after it had loaded the model (the
        out-of-memory killer, say), so that the page goes on serving; the calls made while it
        was dead failed with its exit status."""
        with self._lock:
            if self.proc.poll() is None:
                return
            self._restart()

    def _restart(self) -> None:
        """A new worker in place of the ended one (its socket folder removed); lock held."""
        shutil.rmtree(self.dir, ignore_errors=True)
        self.restarts += 1
        self._start()

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def call(self, name: str, *args, **kwargs) -> Any:
        conn, proc = self._connection()
        try:
            conn.send((name, args, kwargs))
            answered = conn.poll(self.call_timeout)
            if answered:
                status, value = conn.recv()
        except (EOFError, OSError) as e:
            self._local.conn = None
            raise WorkerError(f"the model worker stopped answering ({self.status()})") from e
        if not answered:  # hung: its answer, if it ever comes, goes to a closed connection
            self._local.conn = None
            conn.close()
            self._replace(proc)
            raise WorkerError(
                f"the model worker did not answer {name} within {self.call_timeout:g} s, so "
                "it was started again; try again once it has loaded the model (seconds)"
            )
        if status != "ok":
            raise WorkerError(f"the model worker failed on {name}: {value}")
        return value

    def _connection(self):
        """This thread's connection to the current worker, and that worker's process."""
        held = getattr(self._local, "conn", None)
        if held is not None and held[1] is self.proc:
            return held
        if held is not None:  # to a worker replaced since
            held[0].close()
        while True:  # the worker listens within a second of its start
            with self._lock:
                proc, address, authkey = self.proc, self.address, self.authkey
            if proc.poll() is not None:
                raise WorkerError(f"the model worker is not running ({self.status()})")
            try:
                conn = Client(address, family="AF_UNIX", authkey=authkey)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.02)
        self._local.conn = (conn, proc)
        return conn, proc

    def status(self) -> str:
        code = self.proc.poll()
        return "running" if code is None else f"exited with status {code}"

    def stop(self, timeout: float = 10) -> None:
        """End the worker (its end of file, then SIGTERM, then SIGKILL) and remove its socket."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
