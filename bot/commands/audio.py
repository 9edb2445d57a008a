"""`civicbot content audio list|approve|reject`: the desk reviews the recorded voice notes."""

from __future__ import annotations

import argparse
from pathlib import Path

from content.audio import INDEX_FILE, AudioIndex, State, audio_coverage
from content.pack import ContentPack, recordable


def add_parser(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `content audio` sub-commands."""
    audio = actions.add_parser("audio", help="review the voice notes recorded by CSOs")
    verbs = audio.add_subparsers(dest="verb", metavar="VERB", required=True)
    listing = verbs.add_parser("list", help="every recording, drafts first")
    listing.add_argument("--state", choices=("draft", "approved", "rejected"))
    listing.add_argument("--path", type=Path, help="pack folder (default: CIVICBOT_CONTENT)")
    for verb, text in (("approve", "serve a recording"), ("reject", "never serve a recording")):
        one = verbs.add_parser(verb, help=text)
        one.add_argument("key", help="e.g. article:ID:1, quiz:ID:3, ui:menu.main")
        one.add_argument("lang", help="language code, e.g. fr or bm")
        one.add_argument("--path", type=Path, help="pack folder (default: CIVICBOT_CONTENT)")


def run(args: argparse.Namespace, default_path: Path) -> int:
    """Dispatch an audio review command."""
    index = AudioIndex(args.path or default_path)
    if index.problems:
        print("\n".join(index.problems))
        return 1
    if args.verb == "list":
        order = {"draft": 0, "approved": 1, "rejected": 2}
        rows = sorted(index.entries(), key=lambda e: (order[e[2].state], e[0], e[1]))
        shown = [row for row in rows if args.state in (None, row[2].state)]
        if not shown:
            print(f"no recordings in {INDEX_FILE}")
        for key, lang, rec in shown:
            seconds = f"{rec.seconds:.0f} s" if rec.seconds is not None else "?"
            when = rec.recorded_at.strftime("%Y-%m-%d")
            print(f"{rec.state:<8}  {key}  {lang}  {seconds}  {when}  {rec.recorded_by}")
        return 0
    state: State = "approved" if args.verb == "approve" else "rejected"
    if not index.set_state(args.key, args.lang, state):
        print(f"no recording of {args.key} in {args.lang}")
        return 1
    print(f"{args.key} ({args.lang}): {state}")
    return 0


def coverage_lines(pack: ContentPack) -> list[str]:
    """`content check`'s audio lines: approved recordings per language and kind."""
    if pack.audio is None:
        return []
    table = audio_coverage(pack.audio, pack.languages, recordable(pack))
    lines = []
    for lang, kinds in table.items():
        drafts = sum(
            1 for _, code, rec in pack.audio.entries() if code == lang and rec.state == "draft"
        )
        shown = ", ".join(f"{kind} {count}" for kind, count in kinds.items())
        lines.append(f"  audio {lang}: {shown} approved; {drafts} draft(s) to review")
    return lines
