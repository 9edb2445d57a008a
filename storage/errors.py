"""Errors a unit of work raises when its writes cannot be committed as they stand."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar


class DuplicateInbound(Exception):
    """The inbound message was processed by another turn first; its writes were rolled back."""


class StaleRecord(Exception):
    """A shared record changed since it was read (or vanished); the unit was rolled back."""


_PRECONDITIONED: set[object] = set()
Op = TypeVar("Op", bound=Callable[..., None])


def preconditioned(op: Op) -> Op:
    """Mark a write whose WHERE is its precondition: it raises StaleRecord when that fails."""
    _PRECONDITIONED.add(op)
    return op


def has_precondition(ops: Iterable[object]) -> bool:
    """Whether a unit of work holds a write marked `preconditioned` (as itself or a partial)."""
    return any(getattr(op, "func", op) in _PRECONDITIONED for op in ops)
