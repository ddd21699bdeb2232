"""Let libraries that ``import nibabel`` use nivox: :func:`install_as_nibabel`.

``import nivox as nib`` helps a user's own scripts, but nilearn, dipy,
nitransforms and the rest import nibabel themselves. After
``nivox.install_as_nibabel()`` every ``import nibabel`` and ``nibabel.X`` in
the process resolves to nivox:

- ``nibabel.X`` *is* the module object ``nivox.X`` (so ``mock.patch`` on
  ``nibabel.X.name`` patches nivox, and ``isinstance`` checks agree);
- ``nibabel`` itself is a small package module whose attributes are nivox's,
  except ``__version__``, which reports the nibabel API version nivox
  implements (clients gate code paths on it), while ``nivox.__version__``
  stays nivox's own;
- a ``nibabel.X`` that nivox lacks raises ``ModuleNotFoundError`` naming
  nivox; the real nibabel is never imported behind the user's back.

For whole pipelines, the environment variable ``NIVOX_AS_NIBABEL=1`` can turn
it on through ``sitecustomize`` (README, "Standing in for nibabel").
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import Any

from .errors import NivoxError

__all__ = ["NIBABEL_API_VERSION", "NibabelAlreadyImportedError", "NibabelModuleNotFoundError",
           "install_as_nibabel",
           "is_installed_as_nibabel", "uninstall_as_nibabel"]

#: the nibabel release whose API (and test suite) nivox follows
NIBABEL_API_VERSION = "5.4.2"
_ALIAS = "nibabel"
_TARGET = "nivox"


class NibabelAlreadyImportedError(NivoxError, RuntimeError):
    """The real nibabel was imported before nivox was asked to stand in for it."""


class NibabelModuleNotFoundError(NivoxError, ModuleNotFoundError):
    """A ``nibabel.X`` that nivox, standing in for nibabel, does not provide."""


class _ExistingModuleLoader(importlib.abc.Loader):
    """Hands the import system a module object that already exists."""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module
        self._own_spec = getattr(module, "__spec__", None)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self._module

    def exec_module(self, module: types.ModuleType) -> None:
        # already executed under its nivox name; the import system has just set
        # __spec__ to the alias's, and the module must keep its own (reload, pickling
        # by reference and tools that read __spec__.name see nivox's module)
        if self._own_spec is not None:
            module.__spec__ = self._own_spec


class _NibabelFinder(importlib.abc.MetaPathFinder):
    """Resolves ``nibabel`` and ``nibabel.X``; never lets another finder see those names."""

    def __init__(self, top: types.ModuleType) -> None:
        self.top = top

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname == _ALIAS:
            module = self.top
        elif fullname.startswith(_ALIAS + "."):
            module = self._target_module(fullname)
        else:
            return None
        is_package = hasattr(module, "__path__")
        return importlib.machinery.ModuleSpec(fullname, _ExistingModuleLoader(module),
                                              is_package=is_package)

    @staticmethod
    def _target_module(fullname: str) -> types.ModuleType:
        target_name = _TARGET + fullname[len(_ALIAS):]
        try:
            return importlib.import_module(target_name)
        except ModuleNotFoundError as err:
            missing = err.name is not None and (
                target_name == err.name or target_name.startswith(err.name + "."))
            if not missing:
                raise  # nivox has the module, but something it imports is missing
            raise NibabelModuleNotFoundError(
                f"No module named {fullname!r}: nivox stands in for nibabel in this process "
                f"(nivox.install_as_nibabel) and has no {target_name!r}",
                name=fullname) from None


def _make_top_module() -> types.ModuleType:
    """The ``nibabel`` package module: nivox's names, nibabel's API version."""
    nivox = importlib.import_module(_TARGET)
    top = types.ModuleType(_ALIAS, nivox.__doc__)
    top.__path__ = []  # a package, so ``nibabel.X`` imports go through the finder
    top.__file__ = nivox.__file__
    top.__version__ = NIBABEL_API_VERSION
    top.__nivox_alias__ = True

    def __getattr__(name: str) -> Any:
        try:
            return getattr(nivox, name)
        except AttributeError:
            raise AttributeError(f"module 'nibabel' (nivox) has no attribute {name!r}") from None

    def __dir__() -> list[str]:
        return sorted(set(dir(nivox)) | {"__version__"})

    top.__getattr__ = __getattr__  # type: ignore[method-assign]
    top.__dir__ = __dir__  # type: ignore[method-assign]
    return top


def _installed_finder() -> _NibabelFinder | None:
    for finder in sys.meta_path:
        if isinstance(finder, _NibabelFinder):
            return finder
    return None


def is_installed_as_nibabel() -> bool:
    """True when ``import nibabel`` gives nivox in this process."""
    return _installed_finder() is not None


def install_as_nibabel() -> None:
    """Make ``import nibabel`` (and every ``nibabel.X``) resolve to nivox in this process.

    Call it before importing the libraries that should use nivox (nilearn,
    dipy, ...). Calling it again does nothing.

    Raises
    ------
    NibabelAlreadyImportedError
        When the real nibabel is already imported: modules holding it would
        mix two libraries' objects, so nothing is changed.
    """
    if is_installed_as_nibabel():
        return
    already = sorted(name for name in sys.modules
                     if name == _ALIAS or name.startswith(_ALIAS + "."))
    if already:
        raise NibabelAlreadyImportedError(
            f"nibabel is already imported ({already[0]!r}); call nivox.install_as_nibabel() "
            "before importing nibabel or any library that imports it")
    finder = _NibabelFinder(_make_top_module())
    sys.meta_path.insert(0, finder)  # ahead of the path finders, which could find nibabel


def uninstall_as_nibabel() -> None:
    """Undo :func:`install_as_nibabel`: forget the ``nibabel`` names it gave out.

    Modules that already hold ``nibabel`` objects keep them (they are nivox's).
    """
    finder = _installed_finder()
    if finder is None:
        return
    sys.meta_path.remove(finder)
    for name in [n for n in sys.modules if n == _ALIAS or n.startswith(_ALIAS + ".")]:
        del sys.modules[name]
