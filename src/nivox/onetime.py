"""Attributes computed on first access and then stored, with a way to forget them.

``auto_attr`` and ``OneTimeProperty`` are :class:`functools.cached_property`
under nibabel's older names (nilearn imports ``auto_attr``).
:class:`ResetMixin` adds ``reset()``, which drops every cached value so the
next access computes it again.
"""

from __future__ import annotations

from functools import cached_property

from .deprecator import expired as _expired

__all__ = ["OneTimeProperty", "ResetMixin", "auto_attr"]

OneTimeProperty = cached_property
auto_attr = cached_property


class ResetMixin:
    """Give a class ``reset()``, forgetting the values of its cached properties.

    Useful when a cached property depends on attributes that have since
    changed. Only properties defined on the instance's own class are reset.
    """

    def reset(self) -> None:
        """Forget every cached property value computed so far."""
        for name, attr in type(self).__dict__.items():
            if isinstance(attr, cached_property) and name in self.__dict__:
                del self.__dict__[name]


#: nibabel 3.2 renamed this to ``auto_attr`` and removed it in 5.0
setattr_on_read = _expired("setattr_on_read", "nivox.onetime.auto_attr", since="3.2", until="5.0")
