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
    draws into (removed by the caller)."""

    def __init__(self, argv: list[str], pictures: str | Path):
        self.dir = tempfile.mkdtemp(prefix="tvnet-worker-")
        if len(self.dir) > SOCKET_MAX - 8:  # a long $TMPDIR: the socket goes to /tmp
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = tempfile.mkdtemp(prefix="tvnet-worker-", dir="/tmp")
        self.address = os.path.join(self.dir, "sock")
        self.authkey = secrets.token_bytes(32)
        cmd = [sys.executable, "-m", "apps.demo.worker", "--address", self.address]
        cmd += ["--pictures", str(pictures), *argv]
        env = {**os.environ, AUTHKEY_ENV: self.authkey.hex()}
        # stdin stays open while this process lives: the worker exits at its end of file, so
        # it never outlives the page, even one that was killed
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.PIPE)
        self._local = threading.local()

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def call(self, name: str, *args, **kwargs) -> Any:
        conn = self._connection()
        try:
            conn.send((name, args, kwargs))
            status, value = conn.recv()
        except (EOFError, OSError) as e:
            self._local.conn = None
            raise WorkerError(f"the model worker stopped answering ({self.status()})") from e
        if status != "ok":
            raise WorkerError(f"the model worker failed on {name}: {value}")
        return value

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        while True:  # the worker listens within a second of its start
            if self.proc.poll() is not None:
                raise WorkerError(f"the model worker is not running ({self.status()})")
            try:
                conn = Client(self.address, family="AF_UNIX", authkey=self.authkey)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.02)
        self._local.conn = conn
        return conn

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
