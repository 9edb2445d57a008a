"""Search benchmark: answer quality (top-1, top-3, confident-but-wrong), query latency on the
bundled pack and on a generated 5,000-article pack, pack load time, and `civicbot ask`
start-up time. Run with `make bench`."""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content.pack import BUNDLED_PACK, ContentPack, load_pack  # noqa: E402
from content.search import Hit, SearchIndex, decide  # noqa: E402

SAMPLE = ROOT.parent / "shared" / "eval" / "search_sample.tsv"


def queries() -> list[str]:
    """Our labelled queries: realistic phone typing."""
    lines = (ROOT / "tests" / "data" / "search_queries.tsv").read_text(encoding="utf-8")
    return [line.split("\t")[0] for line in lines.splitlines() if line and line[0] != "#"]


def labelled(path: Path) -> list[tuple[str, list[str]]]:
    """Query and accepted article ids of a labelled TSV file."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, _lang, expected = line.split("\t")
            rows.append((query, expected.split("|")))
    return rows


def report(name: str, answers: list[tuple[list[str], list[Hit]]]) -> None:
    """Print top-1, top-3, how often the chat would open an article, and how often wrongly."""
    n = len(answers)
    top1 = sum(bool(h) and h[0].article_id in e for e, h in answers)
    top3 = sum(any(x.article_id in e for x in h[:3]) for e, h in answers)
    sure = [(e, h) for e, h in answers if decide(h) == "confident"]
    wrong = sum(h[0].article_id not in e for e, h in sure)
    print(
        f"{name}: {n} queries, top-1 {top1 / n:.0%}, top-3 {top3 / n:.0%}, "
        f"confident {len(sure) / n:.0%}, confident but wrong {wrong / n:.1%}"
    )


class _Articles:
    """Just what SearchIndex.build reads from a pack."""

    def __init__(self, articles: dict[str, object]) -> None:
        self.articles = articles


def quality(pack: ContentPack) -> None:
    """Labelled sets, and each example question searched in an index built without it."""
    for name, path in (
        ("public sample", SAMPLE),
        ("our labelled queries", ROOT / "tests" / "data" / "search_queries.tsv"),
    ):
        if path.exists():
            report(name, [(e, pack.search.search(q)) for q, e in labelled(path)])
    answers = []
    for article in pack.articles.values():
        for phrases in article.questions.values():
            for question in phrases:
                left = {
                    lang: [x for x in qs if x != question] for lang, qs in article.questions.items()
                }
                articles = dict(pack.articles)
                articles[article.id] = article.model_copy(update={"questions": left})
                index = SearchIndex.build(_Articles(articles))  # type: ignore[arg-type]
                answers.append(([article.id], index.search(question)))
    report("example questions, each left out of the index", answers)


def generate(target: Path, count: int, seed: int = 5) -> None:
    """The bundled pack plus `count` articles made by recombining its words."""
    # The bundled articles stay: quizzes and the rest of the pack refer to them.
    shutil.copytree(BUNDLED_PACK, target)
    rng = random.Random(seed)
    originals = [
        yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted((BUNDLED_PACK / "articles").rglob("*.yaml"))
    ]
    words = sorted({w for a in originals for w in a["body"]["fr"].split() if len(w) > 3})
    (target / "articles" / "gen").mkdir(parents=True)
    for n in range(count):
        base = dict(rng.choice(originals))
        base["id"] = f"gen-{n}"
        base["title"] = {"fr": " ".join(rng.sample(words, 4))[:60]}
        base["short_title"] = {"fr": f"Article {n}"}
        base["keywords"] = {"fr": rng.sample(words, 8)}
        base["questions"] = {"fr": [" ".join(rng.sample(words, 5)) for _ in range(4)]}
        base["body"] = {"fr": " ".join(rng.sample(words, 120))}
        base["related"] = []
        base["needs_review"] = {}
        (target / "articles" / "gen" / f"gen-{n}.yaml").write_text(
            yaml.safe_dump(base, allow_unicode=True), encoding="utf-8"
        )


def measure(name: str, pack: ContentPack, sample: list[str], rounds: int) -> None:
    """Print p50 and p99 per query."""
    pack.search.search("préchauffage")  # build the index before timing queries
    times = []
    for _ in range(rounds):
        for query in sample:
            start = time.perf_counter()
            pack.search.search(query)
            times.append(time.perf_counter() - start)
    times.sort()
    print(f"{name}: {len(pack.articles)} articles, {len(times)} queries")
    print(f"  query p50   {statistics.median(times) * 1000:.2f} ms")
    print(f"  query p99   {times[int(len(times) * 0.99)] * 1000:.2f} ms")


def timed_load(path: Path) -> tuple[ContentPack, float, float]:
    """Load a pack and build its index; return both durations."""
    start = time.perf_counter()
    pack = load_pack(path)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    pack.search.search("x")
    return pack, loaded, time.perf_counter() - start


def main() -> None:
    """Run every measurement."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=5000)
    args = parser.parse_args()
    sample = queries()
    pack, loaded, indexed = timed_load(BUNDLED_PACK)
    quality(pack)
    print(f"bundled pack load {loaded * 1000:.0f} ms, index build {indexed * 1000:.0f} ms")
    measure("bundled pack", pack, sample, rounds=30)
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big"
        generate(big, args.articles)
        pack, loaded, indexed = timed_load(big)
        print(f"generated pack load {loaded:.1f} s, index build {indexed:.1f} s")
        # Unseen words too: a typo costs a fuzzy look-up, which is cached afterwards.
        rng = random.Random(1)
        fresh = [q + " " + "".join(rng.sample("abcdefghij", 6)) for q in sample]
        measure("generated pack", pack, sample + fresh, rounds=3)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--json", "taxe locale"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        runs.append(time.perf_counter() - start)
    print(f"civicbot ask start-up (whole command, median of 5): {statistics.median(runs):.2f} s")


if __name__ == "__main__":
    main()
