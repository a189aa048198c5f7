"""CPU inference runtime (docs/design.md §7): frozen modules exported to ONNX, run by onnxruntime.

On CPUs without bf16 (fp32 only, e.g. AVX2), onnxruntime runs this project's frozen networks
markedly faster than eager PyTorch (2 cores, AMD EPYC Zen 1, ``benchmarks/predictor.py``):
EfficientNet-Lite0 at 320², query + neighbour in one call, ≈ 130 → 95 ms; all-MiniLM-L6-v2 on
one sentence 22 → 6 ms. Only inference-only modules go this way (the backbone after
:meth:`~tvnet.model.backbone.Backbone.optimize_for_inference`, the retrieval encoders); the
trainable TV-Net parts stay in PyTorch.

An export (``torch.onnx.export(dynamo=True)``) takes 10–20 s, so its result is cached on disk
under ``$TVNET_CACHE`` (default ``~/.cache/tvnet``) in ``onnx/``, keyed by :func:`fingerprint`
(weights, structure, input shapes, library versions); it is written atomically and re-exported
when unreadable. Each new set of weights adds an entry (12–90 MB); a read marks an entry as
used, and after each export the least recently used entries go until the folder holds at most
``$TVNET_CACHE_MAX_MB`` (default 1024, about eight sets of the three networks). When the cache
cannot be written the export runs from memory (again at every start, with a warning); when
exporting fails (an operator the exporter lacks), :func:`try_onnx` warns and the module stays
in PyTorch. A call whose input shape the export did not declare falls back to the PyTorch
module (see :meth:`OnnxModule.accepts`).

``runtime``: ``"torch"``, ``"onnxruntime"`` or ``"auto"`` (the default; also the environment
variable ``TVNET_RUNTIME``): onnxruntime on a CPU that has no bf16 autocast and has
onnxruntime + onnxscript installed, else PyTorch (CUDA, and the backbone of bf16 CPUs, where
bf16 autocast is level with onnxruntime's fp32: 144–153 against 135–154 ms end to end on a Zen 4
EPYC, docs/experiments.md "Speed and memory"). The retrieval sentence encoder never autocasts,
so ``auto`` puts it on onnxruntime on every CPU (≈ 20 ms faster than PyTorch there).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import logging
import math
import os
import sys
import threading
import time
import types
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from tvnet.config import RUNTIMES

FORMAT = 1  # bump when the export recipe changes: old cache entries are then not reused
CACHE_MAX_MB = 1024  # default size limit of the export cache ($TVNET_CACHE_MAX_MB)
log = logging.getLogger(__name__)


def onnxruntime_available() -> bool:
    """Whether exporting (``onnx``, ``onnxscript``) and running (``onnxruntime``) can work."""
    return all(
        importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnxscript", "onnx")
    )


def resolve_runtime(
    runtime: str | None, device: str | torch.device = "cpu", amp: bool = True
) -> str:
    """``"torch"`` or ``"onnxruntime"`` for ``runtime`` (None: ``$TVNET_RUNTIME`` or auto).

    ``auto`` takes onnxruntime on a CPU unless bf16 autocast would run there (a bf16 CPU with
    ``amp``). An explicit ``"onnxruntime"`` off the CPU is an error; the same value from the
    environment falls back to PyTorch there (one setting for a machine's CPU and GPU jobs)."""
    from tvnet.amp import cpu_bf16_supported

    explicit = runtime is not None
    runtime = runtime or os.environ.get("TVNET_RUNTIME") or "auto"
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    on_cpu = torch.device(device).type == "cpu"
    if runtime == "auto":
        bf16 = amp and cpu_bf16_supported()
        return "onnxruntime" if on_cpu and not bf16 and onnxruntime_available() else "torch"
    if runtime == "onnxruntime":
        if not on_cpu:
            if not explicit:
                return "torch"
            raise ValueError(f"runtime 'onnxruntime' runs on the CPU only, not on {device}")
        if not onnxruntime_available():  # a ValueError: every command reports it as bad input
            raise ValueError(
                "runtime 'onnxruntime' needs `pip install onnxruntime onnxscript onnx` "
                "(pinned in requirements.txt)"
            )
    return runtime


def cache_root() -> Path:
    return Path(os.environ.get("TVNET_CACHE") or Path.home() / ".cache" / "tvnet")


def cache_limit_bytes() -> int:
    """The export cache's size limit: ``$TVNET_CACHE_MAX_MB`` megabytes, else 1024."""
    raw = os.environ.get("TVNET_CACHE_MAX_MB", "").strip()
    try:
        mb = float(raw) if raw else CACHE_MAX_MB
        if not math.isfinite(mb) or mb < 0:  # "inf" and "nan" parse, but size nothing
            raise ValueError
    except ValueError:
        warnings.warn(
            f"TVNET_CACHE_MAX_MB={raw!r} is not a size in MB; using {CACHE_MAX_MB}",
            RuntimeWarning,
            stacklevel=2,
        )
        mb = CACHE_MAX_MB
    return int(mb * 2**20)


def prune_cache(folder: Path, limit: int, keep: Path | None = None) -> list[Path]:
    """Delete the least recently used ``*.onnx`` entries of ``folder`` (oldest modification
    time first: a read touches its entry) until they total at most ``limit`` bytes; ``keep``
    (the entry just written) always stays. Returns what was deleted. An entry that another
    process is loading at that moment is safe: it holds the file open, or finds it gone and
    exports again."""
    for p in folder.glob(".*.onnx.*.tmp"):  # an export killed mid-write (tvnet.io.atomic_path)
        try:
            if p.stat().st_mtime < time.time() - 3600:
                p.unlink()
        except OSError:
            pass
    entries = []
    for p in folder.glob("*.onnx"):
        try:
            st = p.stat()
        except OSError:  # deleted meanwhile by another process's prune
            continue
        entries.append((st.st_mtime, st.st_size, p))
    total = sum(size for _, size, _ in entries)
    gone = []
    for _, size, p in sorted(entries, key=lambda e: e[0]):
        if total <= limit:
            break
        if keep is not None and p == keep:
            continue
        try:
            p.unlink()
            gone.append(p)
        except FileNotFoundError:  # another process's prune got there first
            pass
        except OSError:  # cannot delete it: its bytes stay counted
            continue
        total -= size
    if gone:
        log.info(
            "ONNX cache over %d MB: removed %d least recently used entries", limit >> 20, len(gone)
        )
    return gone


OWN_PACKAGES = ("tvnet",)  # whose code a graph traces is hashed (fingerprint, own_code)


def code_bytes(code: types.CodeType) -> bytes:
    """A code object's bytecode, names and constants, nested code included, without its file
    name or line numbers: equal for the same code in any clone or install (zipped too)."""
    parts = [code.co_code, repr((code.co_names, code.co_varnames, code.co_freevars)).encode()]
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            parts.append(code_bytes(c))
        elif isinstance(c, frozenset):  # its repr's order follows the string hash seed
            parts.append(repr(sorted(map(repr, c))).encode())
        else:
            parts.append(repr(c).encode())
    return b"\0".join(parts)


def module_code(mod: types.ModuleType) -> bytes:
    """The code of every function and class that module ``mod`` defines, as loaded (an edit
    of its file after the import is not what runs, so it is not what is hashed)."""
    out = []
    for name, obj in sorted(vars(mod).items()):
        if getattr(obj, "__module__", None) != mod.__name__:
            continue  # imported from elsewhere
        members = vars(obj).items() if isinstance(obj, type) else [(name, obj)]
        for attr, f in sorted(members):
            f = getattr(f, "__func__", f)  # staticmethod, classmethod
            fns = [f.fget, f.fset] if isinstance(f, property) else [f]
            for fn in fns:
                if isinstance(getattr(fn, "__code__", None), types.CodeType):
                    out.append(f"{name}.{attr}:".encode() + code_bytes(fn.__code__))
    return b"\n".join(out)


def own_code(module: torch.nn.Module) -> list[bytes]:
    """The code (:func:`module_code`) of each Python module of :data:`OWN_PACKAGES` that
    defines a class of ``module``, of one of its submodules or of their bases
    (``FoldedActivation``; ``MeanPooled`` with ``sentence_vector`` beside it), in module name
    order: forward code is in neither ``repr()`` nor the weights, and no library version
    changes when it is edited."""
    names = set()
    for m in module.modules():
        for cls in type(m).__mro__:
            if cls.__module__.split(".")[0] in OWN_PACKAGES:
                names.add(cls.__module__)
    return [module_code(sys.modules[n]) for n in sorted(names) if n in sys.modules]


def fingerprint(module: torch.nn.Module, shapes: Sequence[Sequence[int]], extra: str = "") -> str:
    """sha256 over the module's class, its printed structure (strides, dilations …), weights
    and buffers, the code of this project's classes in it (:func:`own_code`), the example
    input shapes, ``extra`` (e.g. a model config) and the versions of torch, onnxruntime, onnx
    and onnxscript: equal fingerprints mean an export can be reused."""
    from importlib.metadata import version

    h = hashlib.sha256()
    import onnxruntime

    # timm's forward code is not in repr() or the weights; onnxruntime by its own version, as
    # onnxruntime-gpu and the like install it under another name
    libs = [onnxruntime.__version__, *(version(m) for m in ("onnx", "onnxscript", "timm"))]
    # repr: what the weights do not show (strides, dilations of an output stride, activations)
    meta = (FORMAT, type(module).__qualname__, repr(module), torch.__version__, libs)
    h.update(repr((meta, [tuple(s) for s in shapes], extra)).encode())
    for code in own_code(module):
        h.update(f"{len(code)}:".encode() + code)
    for name, t in module.state_dict().items():
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


_EXPORT_LOCK = threading.Lock()


def _export(module: torch.nn.Module, args: tuple, dynamic_shapes, names: list[str]) -> bytes:
    """ONNX bytes of ``module`` traced on ``args``; quiet (the exporter prints its stages).
    One export at a time: silencing stdout and warnings is process-wide (the demo may load a
    variant from a request thread)."""
    buf = io.StringIO()
    with (
        _EXPORT_LOCK,
        warnings.catch_warnings(),
        contextlib.redirect_stdout(buf),
        torch.no_grad(),
    ):
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module,
            args,
            dynamo=True,
            input_names=names,
            dynamic_shapes=dynamic_shapes,
            optimize=True,
            verbose=False,
        )
        tmp = io.BytesIO()
        program.save(tmp)
    return tmp.getvalue()


class OnnxModule:
    """``module`` exported once (or read from the cache) and run by onnxruntime.

    ``example``: input tensors to trace with; ``dynamic``: per input, the axes that may vary
    (e.g. ``{0: "batch"}``); every other axis is fixed to the example's size. Calling returns
    the outputs as a list of float32 CPU tensors."""

    def __init__(
        self,
        module: torch.nn.Module,
        example: Sequence[torch.Tensor],
        dynamic: Sequence[dict[int, str]],
        name: str,
        threads: int | None = None,
        cache: str | Path | None = None,
        extra: str = "",
    ) -> None:
        import onnxruntime as ort

        from tvnet.io import atomic_write_bytes

        example = tuple(t.detach().cpu().contiguous() for t in example)
        if len(dynamic) != len(example):
            raise ValueError("one dynamic-axes dict per example input")
        self.names = [f"input{i}" for i in range(len(example))]
        self.fixed = [
            {ax: n for ax, n in enumerate(t.shape) if ax not in dyn}
            for t, dyn in zip(example, dynamic)
        ]
        self.ndims = [t.dim() for t in example]
        key = fingerprint(module, [t.shape for t in example], repr(list(dynamic)) + extra)
        self.path = Path(cache or cache_root() / "onnx") / f"{name}-{key[:20]}.onnx"
        dims: dict[str, torch.export.Dim] = {}
        spec = tuple(
            {
                ax: dims.setdefault(d, torch.export.Dim(d, min=1, max=1 << 16))
                for ax, d in dyn.items()
            }
            for dyn in dynamic
        )
        opts = session_options(threads)
        for attempt in (0, 1):
            source: str | bytes = str(self.path)
            if not attempt and self.path.is_file():
                with contextlib.suppress(OSError):  # mark it used (a read-only cache is fine)
                    os.utime(self.path)
            else:
                log.info("exporting %s to ONNX (%s), once per weights", name, self.path)
                data = _export(module.eval(), example, spec, self.names)
                source = data  # run from memory: another process may prune the file meanwhile
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write_bytes(self.path, data)
                    prune_cache(self.path.parent, cache_limit_bytes(), keep=self.path)
                except OSError as e:  # a read-only home: run it, export again next start
                    warnings.warn(
                        f"cannot cache the ONNX export of {name} in {self.path.parent} ({e}); "
                        "set TVNET_CACHE to a writable folder to skip the export next time",
                        RuntimeWarning,
                        stacklevel=2,
                    )
            try:
                self.session = ort.InferenceSession(
                    source, opts, providers=["CPUExecutionProvider"]
                )
                break
            except Exception as e:  # a damaged cache entry: export again, once
                if attempt:
                    raise RuntimeError(f"onnxruntime cannot load {self.path}: {e}") from e
                log.warning("ONNX cache entry %s is unreadable (%s); exporting again", self.path, e)
        self.output_names = [o.name for o in self.session.get_outputs()]

    def accepts(self, *tensors: torch.Tensor) -> bool:
        """Whether these inputs fit the exported graph (rank and the fixed axes)."""
        return len(tensors) == len(self.fixed) and all(
            t.dim() == nd and all(t.shape[ax] == n for ax, n in fixed.items())
            for t, nd, fixed in zip(tensors, self.ndims, self.fixed)
        )

    def __call__(self, *tensors: torch.Tensor) -> list[torch.Tensor]:
        feed = {
            n: np.ascontiguousarray(t.detach().cpu().numpy()) for n, t in zip(self.names, tensors)
        }
        return [torch.from_numpy(o) for o in self.session.run(self.output_names, feed)]


def session_options(threads: int | None = None):
    """onnxruntime's options for every session of tvnet: ``threads`` (default: PyTorch's) for
    one operator, one operator at a time, no busy-waiting between calls (PyTorch runs on the
    same cores right after), errors only in the log."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or torch.get_num_threads()
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return opts


def try_onnx(
    module: torch.nn.Module,
    example: Sequence[torch.Tensor],
    dynamic: Sequence[dict[int, str]],
    name: str,
    extra: str = "",
) -> OnnxModule | None:
    """:class:`OnnxModule` of ``module``, or None (with a warning) when that fails: onnxruntime
    is a speed-up, never a reason to refuse a prediction."""
    try:
        return OnnxModule(module, example, dynamic, name, extra=extra)
    except Exception as e:
        warnings.warn(
            f"{name} stays in PyTorch: onnxruntime could not take it ({type(e).__name__}: {e})",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
