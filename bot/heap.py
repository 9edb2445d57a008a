"""The long-lived heap (content pack, search index, modules) kept out of garbage collections.

The cyclic garbage collector scans every tracked object of its oldest generation: with the
content pack loaded that is some 200,000 objects, and bench/telegram.py measured a quarter
of the bot's time in these scans. Objects alive once the bot has started live as long as
the process, so they are moved out of the collector's sight (`gc.freeze`); reference
counting still frees them, and after a pack reload the heap is settled again.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect all garbage (frozen before included), then keep what is alive out of scans."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
