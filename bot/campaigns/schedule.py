"""When campaign messages may go: paced at the platforms' rates, never in quiet hours.

Mali keeps UTC all year, so quiet hours are read in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta

# Campaign rows become due a little after they are written: replies and notices written in
# the meantime are due earlier, and the outbox sends the earliest due first.
LEAD = timedelta(seconds=10)
# Pace a little under the platform's rate: the senders' own flood control stays the limit,
# and replies to users always find room in it.
PACE_SHARE = 0.9


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window (it may span midnight) in which no campaign message goes."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """`"21:00-07:00"`; an empty text or `"off"` means no quiet hours."""
        text = text.strip()
        if not text or text.lower() == "off":
            return None
        try:
            first, second = (part.strip() for part in text.split("-"))
            return cls(time.fromisoformat(first), time.fromisoformat(second))
        except ValueError:
            raise ValueError(f"quiet hours must look like 21:00-07:00, not {text!r}") from None

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` (UTC) falls in the quiet window."""
        now = moment.timetz().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def next_end(self, moment: datetime) -> datetime:
        """The first end of the quiet window after `moment`."""
        end = moment.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > moment else end + timedelta(days=1)

    def release(self, moment: datetime) -> datetime:
        """`moment` itself outside quiet hours, else the morning after."""
        return self.next_end(moment) if self.contains(moment) else moment


def slots(count: int, start: datetime, rate: float, quiet: QuietHours | None) -> Iterator[datetime]:
    """`count` send times from `start`, `rate` a second, skipping quiet hours."""
    step = timedelta(seconds=1 / (rate * PACE_SHARE))
    moment = start
    for _ in range(count):
        if quiet is not None:
            moment = quiet.release(moment)
        yield moment
        moment += step


def duration(counts: Iterable[tuple[int, float]]) -> timedelta:
    """How long sending takes when channels go side by side: the slowest channel."""
    longest = max((n / (rate * PACE_SHARE) for n, rate in counts), default=0.0)
    return timedelta(seconds=round(longest))
