"""Renewing per-process state in a forked child, without keeping its owner alive."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable


def in_child_after_fork(method: Callable[[], None]) -> None:
    """Call the bound *method* in every child forked from now on, while its object lives.

    Held weakly: an exporter or processor that is gone is not resurrected by the fork hook.
    """
    if not hasattr(os, "register_at_fork"):
        return
    weak = weakref.WeakMethod(method)

    def renew() -> None:
        found = weak()
        if found is not None:
            found()

    os.register_at_fork(after_in_child=renew)
