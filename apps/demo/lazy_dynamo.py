"""``torch._dynamo`` imported on first real use in the model worker (docs/design.md §7, "The
demo").

``torch._dynamo`` (the compiler behind ``torch.compile``) is never used by the demo, yet the
model load imports it three times over, for names used at import time only:

- ``torchvision.ops.roi_align`` (timm imports torchvision): ``from torch._dynamo.utils import
  is_compile_supported``, called only by ``roi_align``;
- timm (NaFlexViT), torchvision and transformers: ``torch.compiler.disable``,
  ``torch._dynamo.allow_in_graph`` and ``torch._dynamo.assume_constant_result`` as decorators;
- ``transformers.masking_utils``: ``from torch._dynamo._trace_wrapped_higher_order_op import
  TransformGetItemToIndex``, entered only when a mask is built with ``vmap``.

:func:`defer_dynamo` puts stand-ins for these three modules in ``sys.modules``. They answer the
names above without importing dynamo: the three decorators return the function wrapped so that
it runs as it is while dynamo has never been imported (nothing can be compiling then: only
dynamo sets the frame hook these decorators switch off), and with the real decorator applied
from its first call after dynamo has been imported; ``is_compile_supported`` and
``TransformGetItemToIndex`` import it when called. Any other name, and any other submodule,
imports the real ``torch._dynamo`` at once (the stand-ins leave ``sys.modules`` first), so code
that needs dynamo gets it, only later. Measured on the worker's start with the collector off
(2 cores, bundled model): 0.3–0.9 s less, no ``torch._dynamo`` imported through a first answer,
its influence passes included, and the same outputs bit for bit.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import inspect
import os
import sys
import threading
import types
from typing import Any

PACKAGE = "torch._dynamo"
DECORATORS = ("disable", "allow_in_graph", "assume_constant_result")  # of PACKAGE


class StandIn(types.ModuleType):
    """A module of ``torch._dynamo`` not imported yet; a name it lacks imports the real one."""

    def __init__(self, name: str, deferral: Deferral):
        super().__init__(name)
        self._deferral = deferral

    def real(self) -> types.ModuleType:
        self._deferral.end()
        return importlib.import_module(self.__name__)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # the import system's questions (a spec, a file …)
            raise AttributeError(attr)
        return getattr(self.real(), attr)


class Deferral(importlib.abc.MetaPathFinder):
    """The stand-ins, in ``sys.modules`` from :meth:`start` to :meth:`end`, and a finder that
    ends the deferral when a submodule without a stand-in is imported."""

    def __init__(self, torch_dir: str):
        self.package = StandIn(PACKAGE, self)
        self.package.__path__ = [os.path.join(torch_dir, "_dynamo")]
        for name in DECORATORS:
            setattr(self.package, name, deferred_decorator(name))
        utils = StandIn(f"{PACKAGE}.utils", self)
        utils.is_compile_supported = deferred_function(utils, "is_compile_supported")
        wrapped = StandIn(f"{PACKAGE}._trace_wrapped_higher_order_op", self)
        wrapped.TransformGetItemToIndex = deferred_class(wrapped, "TransformGetItemToIndex")
        self.modules = [self.package, utils, wrapped]
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            for m in self.modules:
                sys.modules.setdefault(m.__name__, m)
            sys.meta_path.insert(0, self)

    def end(self) -> None:
        """The stand-ins out of ``sys.modules``: ``torch._dynamo`` imports for real from now
        on (idempotent)."""
        with self._lock:
            for m in self.modules:
                if sys.modules.get(m.__name__) is m:
                    del sys.modules[m.__name__]
            if self in sys.meta_path:
                sys.meta_path.remove(self)

    def find_spec(self, name, path, target=None):
        if not name.startswith(PACKAGE + "."):
            return None
        # A submodule without a stand-in: the real package first, then that module, each
        # imported once; the import that asked gets the module itself.
        self.end()
        module = importlib.import_module(name)
        return importlib.machinery.ModuleSpec(name, Imported(module))


class Imported(importlib.abc.Loader):
    """Hands an import a module that is imported already (and keeps its own spec)."""

    def __init__(self, module: types.ModuleType):
        self.module, self.spec = module, module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module) -> None:
        module.__spec__ = self.spec  # the import system set ours


def imported() -> bool:
    """Whether the real ``torch._dynamo`` has been imported."""
    module = sys.modules.get(PACKAGE)
    return module is not None and not isinstance(module, StandIn)


def real_package() -> types.ModuleType:
    module = sys.modules.get(PACKAGE)
    return module.real() if isinstance(module, StandIn) else importlib.import_module(PACKAGE)


def deferred_decorator(name: str):
    """``torch._dynamo.<name>`` for a function: the function itself until dynamo is imported,
    then the real decorator's result (applied once, at the first call after that)."""

    def decorator(fn=None, *args, **kwargs):
        if fn is None:  # @decorator(recursive=False, …)
            return lambda f: decorator(f, *args, **kwargs)
        if not inspect.isfunction(fn):  # a module, a class, a callable object: the real one
            return getattr(real_package(), name)(fn, *args, **kwargs)
        decorated: list = []

        @functools.wraps(fn)
        def call(*a, **kw):
            if not decorated:
                if not imported():
                    return fn(*a, **kw)
                decorated.append(getattr(real_package(), name)(fn, *args, **kwargs))
            return decorated[0](*a, **kw)

        return call

    return decorator


def deferred_function(module: StandIn, name: str):
    """A function of ``module`` that imports it when called."""

    def call(*args, **kwargs):
        return getattr(module.real(), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def deferred_class(module: StandIn, name: str) -> type:
    """A class of ``module`` whose instances are made by the real class (imported then)."""

    def new(cls, *args, **kwargs):
        return getattr(module.real(), name)(*args, **kwargs)

    return type(name, (), {"__new__": new, "__module__": module.__name__})


def defer_dynamo() -> Deferral | None:
    """Stand-ins for ``torch._dynamo`` until something needs the real one (imports torch);
    None when dynamo is imported already. For the model worker's process: it compiles nothing.
    """
    if PACKAGE in sys.modules:
        return None
    import torch

    deferral = Deferral(os.path.dirname(torch.__file__))
    deferral.start()
    return deferral
