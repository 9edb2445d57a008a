"""Complaints benchmark: routing over all 701 communes, and the time from a citizen's
'confirm' to the CSO's message in the terminal channel. Run with `make bench`."""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.console import ConsoleChannel
from complaints.routing import Place, route
from content.pack import load_pack
from handlers.complaints.notices import coverages
from handlers.engine import Engine
from handlers.messages import Inbound
from storage.sqlite import SqliteStore


def routing() -> None:
    """Every commune x every category, many times over."""
    pack = load_pack()
    table = coverages(pack)
    places = [Place(c.pcode, c.cercle_pcode, c.region_pcode) for c in pack.communes.communes]
    categories = [c.id for c in pack.categories]
    rounds = 20
    start = time.perf_counter()
    for _ in range(rounds):
        for place in places:
            for category in categories:
                route(place, category, table)
    elapsed = time.perf_counter() - start
    count = rounds * len(places) * len(categories)
    print(
        f"routing: {count:,} complaints over {len(places)} communes and "
        f"{len(categories)} categories: {count / elapsed:,.0f} routed/s"
    )


async def confirm_to_cso(complaints: int) -> None:
    """Whole intakes through the terminal channel; time of the final 'confirm' exchange."""
    pack = load_pack()
    communes = [c.name.removesuffix(" Commune") for c in pack.communes.communes]
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(Path(tmp) / "bench.sqlite3")
        for partner in pack.partners:
            code = f"B{partner.id[:10]}".upper().replace("-", "")
            await store.create_link_code(partner.id, code, datetime.now(UTC) + timedelta(days=1))
        engine = Engine(store, lambda: pack, rng=random.Random(1))
        console = ConsoleChannel(engine, store, lambda: datetime.now(UTC))
        seq = iter(range(10**9))

        async def send(
            user: str, chat: str | None = None, **fields: object
        ) -> list[dict[str, object]]:
            inbound = Inbound(
                channel="console",
                user_id=user,
                chat_id=chat or user,
                chat_type="group" if chat else "private",
                received_at=datetime.now(UTC),
                message_id=str(next(seq)),
                **fields,
            )  # type: ignore[arg-type]
            return await console.exchange(inbound)

        for partner in pack.partners:
            code = f"B{partner.id[:10]}".upper().replace("-", "")
            await send("lead", f"chat-{partner.id}", text=f"/lier {code}")
        rng = random.Random(2)
        timings: list[float] = []
        for n in range(complaints):
            user = f"citizen{n}"
            await send(user, text="bonjour")
            await send(user, choice="lang:fr")
            await send(user, choice="complaint:new")
            await send(user, choice=f"complaint:cat:{rng.choice(pack.categories).id}")
            picked = await send(user, text=rng.choice(communes))
            commune = next(
                (
                    c["id"]
                    for r in picked
                    for c in r["choices"]  # type: ignore[attr-defined]
                    if str(c["id"]).startswith("complaint:commune:")
                ),
                None,
            )
            if commune:
                await send(user, choice=commune)
            await send(user, choice="complaint:skip_place")
            await send(user, text=f"Problème numéro {n}: le service ne fonctionne pas du tout.")
            await send(user, choice="complaint:media_done")
            out = await send(user, choice="complaint:consent:no")
            if any(c["id"] == "complaint:dup_no" for r in out for c in r["choices"]):  # type: ignore[attr-defined]
                await send(user, choice="complaint:dup_no")
            start = time.perf_counter()
            out = await send(user, choice="complaint:confirm")
            timings.append(time.perf_counter() - start)
            assert any(str(r["chat"]).startswith("chat-") for r in out), "no CSO message"
        await store.close()
    timings.sort()
    print(f"confirm -> CSO message (terminal channel), {complaints} complaints:")
    print(
        f"  p50 {statistics.median(timings) * 1000:.1f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)] * 1000:.1f} ms"
    )


def main() -> None:
    """Run both measurements."""
    routing()
    asyncio.run(confirm_to_cso(300))


if __name__ == "__main__":
    main()
