"""Errors a unit of work raises when its writes cannot be committed as they stand."""

from __future__ import annotations


class DuplicateInbound(Exception):
    """The inbound message was processed by another turn first; its writes were rolled back."""


class StaleRecord(Exception):
    """A shared record changed since it was read (or vanished); the unit was rolled back."""
