"""Voice notes in the content pack: OGG/Opus checked by hand, keys checked, coverage shown."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from content.audio import (
    MAX_SECONDS,
    RECHECK_SECONDS,
    AudioError,
    AudioIndex,
    check_voice,
    read_opus,
    silent_opus,
)
from content.pack import BUNDLED_PACK, PackError, load_pack

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def copy_pack(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(BUNDLED_PACK, target)
    return target


def record(pack: Path, key: str, lang: str, data: bytes, state: str = "approved") -> None:
    index = AudioIndex(pack)
    index.save_draft(key, lang, data, recorded_by="desk", recorder=None, now=NOW)
    if state != "draft":
        index.set_state(key, lang, state)  # type: ignore[arg-type]


def test_duration_is_read_from_the_last_granule_position() -> None:
    info = read_opus(silent_opus(12.0))
    assert info.seconds == pytest.approx(12.0, abs=0.05)
    assert info.channels == 1


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\xff\xd8\xff\xe0 a jpeg photo", "not an Ogg file"),
        (b"ID3\x03 an mp3", "not an Ogg file"),
        (silent_opus(2)[:-10], "truncated"),
    ],
)
def test_files_that_are_not_opus_are_refused(data: bytes, words: str) -> None:
    with pytest.raises(AudioError, match=words):
        read_opus(data)


def test_ogg_of_another_codec_is_refused() -> None:
    vorbis = silent_opus(2).replace(b"OpusHead", b"\x01vorbis\0")
    # The checksum no longer matches after the change; fix it so only the codec is wrong.
    from content.audio import ogg_crc

    first_end = 27 + vorbis[26] + sum(vorbis[27 : 27 + vorbis[26]])
    page = bytearray(vorbis[:first_end])
    page[22:26] = b"\0\0\0\0"
    page[22:26] = struct.pack("<I", ogg_crc(bytes(page)))
    with pytest.raises(AudioError, match="not Opus"):
        read_opus(bytes(page) + vorbis[first_end:])


def test_a_corrupted_page_is_caught_by_its_checksum() -> None:
    data = bytearray(silent_opus(2))
    data[-1] ^= 0xFF
    with pytest.raises(AudioError, match="checksum"):
        read_opus(bytes(data))


def test_too_long_recordings_are_refused() -> None:
    with pytest.raises(AudioError, match="too long"):
        check_voice(silent_opus(MAX_SECONDS + 30))


def test_a_recorded_page_is_valid_and_counted_in_coverage(tmp_path: Path) -> None:
    pack_dir = copy_pack(tmp_path)
    article = next(iter(load_pack(pack_dir).articles))
    record(pack_dir, f"article:{article}:1", "fr", silent_opus(20))
    record(pack_dir, "quiz:redevabilite:1", "bm", silent_opus(20), state="draft")
    pack = load_pack(pack_dir)
    assert pack.audio is not None
    served = pack.audio.serve(f"article:{article}:1", "fr")
    assert served is not None and (pack_dir / served.path).exists()
    # A draft is not served unless the deployment serves drafts in that language.
    assert pack.audio.serve("quiz:redevabilite:1", "bm") is None
    assert pack.audio.serve("quiz:redevabilite:1", "bm", drafts={"bm"}) is not None
    out = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check", str(pack_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "audio fr: article 1/" in out
    assert "audio bm: article 0/" in out and "1 draft(s) to review" in out


def test_content_check_lists_every_audio_problem(tmp_path: Path) -> None:
    pack_dir = copy_pack(tmp_path)
    (pack_dir / "audio").mkdir()
    (pack_dir / "audio" / "photo.ogg").write_bytes(b"\xff\xd8\xff\xe0 jpeg")
    (pack_dir / "audio" / "long.ogg").write_bytes(silent_opus(MAX_SECONDS + 5))
    entry = {"recorded_by": "desk", "recorded_at": "2026-11-28T09:00:00Z", "state": "approved"}
    index = {
        "recordings": {
            "article:no-such-article:1": {"fr": entry | {"file": "a.ogg"}},
            "article:droits-devoirs-citoyen:99": {"fr": entry | {"file": "b.ogg"}},
            "quiz:redevabilite:1": {"fr": entry | {"file": "photo.ogg"}},
            "quiz:redevabilite:2": {"fr": entry | {"file": "long.ogg"}},
            "ui:menu.no_such_string": {"xx": entry | {"file": "c.ogg"}},
        }
    }
    (pack_dir / "audio.yaml").write_text(yaml.safe_dump(index))
    with pytest.raises(PackError) as caught:
        load_pack(pack_dir)
    problems = "\n".join(caught.value.problems)
    assert "recordings.article:no-such-article:1.fr: no such article" in problems
    assert "recordings.article:droits-devoirs-citoyen:99.fr: no such article" in problems
    assert "audio/photo.ogg: not an Ogg file" in problems
    assert "audio/long.ogg: too long" in problems
    assert "language 'xx' is not in pack.yaml" in problems
    assert "audio/a.ogg is missing" in problems
    result = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check", str(pack_dir)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "too long" in result.stdout


def test_desk_reviews_recordings_from_the_command_line(tmp_path: Path) -> None:
    pack_dir = copy_pack(tmp_path)
    record(pack_dir, "quiz:redevabilite:1", "fr", silent_opus(5), state="draft")
    record(pack_dir, "quiz:redevabilite:2", "fr", silent_opus(5), state="draft")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "content", "audio", *args, "--path", str(pack_dir)],
            capture_output=True,
            text=True,
        )

    listed = cli("list").stdout
    assert "draft     quiz:redevabilite:1  fr" in listed
    # The running bot's index: a draft is not played to citizens.
    running = AudioIndex(pack_dir)
    assert running.serve("quiz:redevabilite:1", "fr") is None
    assert cli("approve", "quiz:redevabilite:1", "fr").returncode == 0
    # The bot looks at the files again at most once a RECHECK_SECONDS, without a restart.
    time.sleep(RECHECK_SECONDS + 0.2)
    assert running.serve("quiz:redevabilite:1", "fr") is not None
    assert cli("reject", "quiz:redevabilite:2", "fr").returncode == 0
    assert cli("approve", "quiz:redevabilite:9", "fr").returncode == 1
    index = AudioIndex(pack_dir)
    assert index.serve("quiz:redevabilite:1", "fr") is not None
    # A refused draft is never served, even where drafts are.
    assert index.serve("quiz:redevabilite:2", "fr", drafts={"fr"}) is None
    assert "rejected  quiz:redevabilite:2" in cli("list", "--state", "rejected").stdout
