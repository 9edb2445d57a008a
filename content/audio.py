"""Voice notes of a content pack: `audio.yaml` indexes OGG/Opus files under `audio/`.

Keys name what a recording reads aloud: `article:ID:PAGE`, `quiz:ID:QNUM` (the question with
its answers), `safety:ID`, `barometer:QUESTION` and `ui:KEY`. Each key has at most one
recording per language, with who recorded it, when, and its review state.
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

AUDIO_DIR = "audio"
INDEX_FILE = "audio.yaml"
# Both platforms play longer notes, but a listener drops off after a few minutes; WhatsApp
# caps audio at 16 MB and Telegram bots may upload voice notes up to 50 MB.
MAX_SECONDS = 300.0
MIN_SECONDS = 0.5
MAX_BYTES = 16 * 1024 * 1024
OPUS_RATE = 48_000  # Opus granule positions always count 48 kHz samples
KEY_KINDS = ("article", "quiz", "safety", "barometer", "ui")

State = Literal["draft", "approved", "rejected"]

# The interface messages a person who cannot read meets on her way (`ui:KEY` recordings):
# the first contact (bilingual: played to a newcomer whatever its language), the welcome, the
# menu, the help, each prompt of a complaint, "not understood" and a quiz's result. A recording
# reads the whole screen: the description prompt's one says too that a voice may be
# recognised; where a message holds values (a score) it reads the fixed part, the digits stay
# written. Other interface strings take no recording (content check refuses one).
UI_VOICE_KEYS = (
    "lang.first_contact",
    "lang.welcome",
    "menu.title",
    "help.text",
    "complaint.home",
    "complaint.ask_category",
    "complaint.ask_commune",
    "complaint.ask_place",
    "complaint.ask_description",
    "complaint.ask_media",
    "complaint.ask_consent",
    "input.not_understood",
    "quiz.result",
)


class AudioError(ValueError):
    """A file that is not a usable OGG/Opus voice note; `code` names why for the people."""

    def __init__(self, message: str, code: str = "not_opus") -> None:
        super().__init__(message)
        self.code = code


# --- OGG/Opus, read and written by hand: no ffprobe on the servers ------------------------


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        crc = n << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_CRC = _crc_table()


def ogg_crc(data: bytes) -> int:
    """The CRC-32 of an Ogg page (polynomial 0x04C11DB7, no reflection, zero start)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[((crc >> 24) & 0xFF) ^ byte]
    return crc


@dataclass(frozen=True, slots=True)
class OpusInfo:
    """What a voice note's container says about it."""

    seconds: float
    channels: int
    size: int


def read_opus(data: bytes) -> OpusInfo:
    """Check that `data` is an Ogg stream of Opus and return its duration; AudioError if not."""
    if len(data) > MAX_BYTES:
        raise AudioError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MB", "too_long")
    pos, first_packet, last_granule = 0, b"", -1
    serial: int | None = None
    while pos < len(data):
        if data[pos : pos + 4] != b"OggS" or len(data) < pos + 27:
            raise AudioError("not an Ogg file" if pos == 0 else "damaged Ogg page")
        version, _flags, granule, page_serial, _seq, crc, count = struct.unpack_from(
            "<BBqIIIB", data, pos + 4
        )
        if version != 0:
            raise AudioError("unknown Ogg version")
        lacing = data[pos + 27 : pos + 27 + count]
        end = pos + 27 + count + sum(lacing)
        if len(lacing) < count or end > len(data):
            raise AudioError("truncated Ogg page")
        page = bytearray(data[pos:end])
        page[22:26] = b"\0\0\0\0"
        if ogg_crc(bytes(page)) != crc:
            raise AudioError("Ogg page checksum is wrong")
        if serial is None:
            serial = page_serial
            body = data[pos + 27 + count : end]
            first_packet = body[: lacing[0]] if lacing else b""
        if page_serial == serial and granule != -1:
            last_granule = granule
        pos = end
    if not first_packet.startswith(b"OpusHead") or len(first_packet) < 19:
        raise AudioError("Ogg file without an OpusHead: not Opus audio")
    channels, pre_skip = first_packet[9], struct.unpack_from("<H", first_packet, 10)[0]
    seconds = max(last_granule - pre_skip, 0) / OPUS_RATE
    return OpusInfo(seconds=seconds, channels=channels, size=len(data))


def _page(serial: int, seq: int, granule: int, packets: list[bytes], flags: int = 0) -> bytes:
    lacing = bytearray()
    for packet in packets:
        size = len(packet)
        while size >= 255:
            lacing.append(255)
            size -= 255
        lacing.append(size)
    header = b"OggS" + struct.pack("<BBqIIIB", 0, flags, granule, serial, seq, 0, len(lacing))
    page = bytearray(header + bytes(lacing) + b"".join(packets))
    page[22:26] = struct.pack("<I", ogg_crc(bytes(page)))
    return bytes(page)


def silent_opus(seconds: float, serial: int = 0x5EED) -> bytes:
    """A valid OGG/Opus voice note of silence (20 ms DTX frames): fixtures and benchmarks."""
    pre_skip = 312
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, OPUS_RATE, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 7) + b"civicbot" + struct.pack("<I", 0)
    pages = [_page(serial, 0, 0, [head], flags=2), _page(serial, 1, 0, [tags])]
    frames = max(int(seconds * 50), 1)
    per_page, seq, done = 50, 2, 0
    while done < frames:
        batch = min(per_page, frames - done)
        done += batch
        last = done == frames
        # One TOC byte (CELT, 20 ms, mono) with an empty frame: a decoder plays silence.
        packets = [b"\xf8"] * batch
        granule = pre_skip + done * 960
        pages.append(_page(serial, seq, granule, packets, flags=4 if last else 0))
        seq += 1
    return b"".join(pages)


# --- the index ------------------------------------------------------------------------------


class Recording(BaseModel):
    """One voice note: its file under `audio/`, who recorded it, when, and its review."""

    model_config = ConfigDict(extra="forbid")
    file: str = Field(pattern=r"^[A-Za-z0-9._-]+\.(ogg|opus|oga)$")
    recorded_by: str = Field(min_length=1, description="the CSO (partner id) that recorded it")
    recorder: str | None = Field(default=None, description="a pseudonym of the member")
    recorded_at: datetime
    state: State = "draft"
    seconds: float | None = None


class AudioFile(BaseModel):
    """`audio.yaml`: recordings by key, then by language."""

    model_config = ConfigDict(extra="forbid")
    recordings: dict[str, dict[str, Recording]] = Field(default_factory=dict)


def file_name(key: str, lang: str) -> str:
    """The file a key's recording in `lang` is stored as."""
    safe = key.replace(":", "-").replace(".", "_").replace("/", "_")
    return f"{safe}.{lang}.ogg"


@dataclass(frozen=True, slots=True)
class Served:
    """A recording that may be played: its pack-relative path and a hash of its bytes."""

    path: str
    digest: str


# How often the files are looked at again for changes made by another process (the CLI):
# every screen asks for its recordings, and a stat per ask was a tenth of a turn's CPU.
RECHECK_SECONDS = 1.0


class AudioIndex:
    """The pack's recordings; re-read within a second when `audio.yaml` changes on disk (the
    CLI, another process)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._index_path = root / INDEX_FILE
        self._lock = threading.Lock()
        self._stamp: float | None = None
        self._checked_at = 0.0
        self._data = AudioFile()
        self._digests: dict[tuple[str, float], str] = {}
        # What `serve` answered since the last look at the files.
        self._served: dict[tuple[str, str, frozenset[str]], Served | None] = {}
        self.problems: list[str] = []
        # Languages whose drafts are played to citizens (a deployment setting, set by bot/).
        self.serve_drafts: frozenset[str] = frozenset()
        self._reload()

    def __repr__(self) -> str:
        return f"AudioIndex({self.root.name!r}, {len(self._data.recordings)} keys)"

    @property
    def index_path(self) -> Path:
        """Where `audio.yaml` lives."""
        return self._index_path

    def _mtime(self) -> float | None:
        try:
            return os.stat(self._index_path).st_mtime
        except OSError:
            return None

    def _reload(self) -> None:
        stamp = self._mtime()
        self._stamp = stamp
        self._checked_at = time.monotonic()
        self._served = {}
        self.problems = []
        if stamp is None:
            self._data = AudioFile()
            return
        try:
            raw = yaml.safe_load(self.index_path.read_text(encoding="utf-8")) or {}
            self._data = AudioFile.model_validate(raw)
        except yaml.YAMLError as exc:
            self.problems.append(f"{INDEX_FILE}: not valid YAML: {' '.join(str(exc).split())}")
            self._data = AudioFile()
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(part) for part in err["loc"]) or "(top)"
                self.problems.append(f"{INDEX_FILE}: {loc}: {err['msg']}")
            self._data = AudioFile()

    def _fresh(self, *, recheck: bool = False) -> AudioFile:
        now = time.monotonic()
        if recheck or now - self._checked_at >= RECHECK_SECONDS:
            self._checked_at = now
            # A recording file replaced in place is served afresh too.
            self._served = {}
            if self._mtime() != self._stamp:
                with self._lock:
                    self._reload()
        return self._data

    def entries(self) -> list[tuple[str, str, Recording]]:
        """Every recording as (key, language, recording), sorted."""
        data = self._fresh()
        return [
            (key, lang, rec)
            for key in sorted(data.recordings)
            for lang, rec in sorted(data.recordings[key].items())
        ]

    def get(self, key: str, lang: str) -> Recording | None:
        """The recording of a key in a language, whatever its state."""
        return self._fresh().recordings.get(key, {}).get(lang)

    def serve(self, key: str, lang: str, drafts: Collection[str] | None = None) -> Served | None:
        """The recording to play: approved, or a draft where the deployment serves them."""
        drafts = self.serve_drafts if drafts is None else frozenset(drafts)
        rec = self.get(key, lang)
        asked = (key, lang, drafts)
        if asked in self._served:
            return self._served[asked]
        served = self._serve(rec, lang, drafts)
        self._served[asked] = served
        return served

    def _serve(self, rec: Recording | None, lang: str, drafts: Collection[str]) -> Served | None:
        if rec is None or rec.state == "rejected":
            return None
        if rec.state == "draft" and lang not in drafts:
            return None
        relative = f"{AUDIO_DIR}/{rec.file}"
        path = self.root / relative
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        digest = self._digests.get((relative, mtime))
        if digest is None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:32]
            self._digests[(relative, mtime)] = digest
        return Served(relative, digest)

    def save_draft(
        self,
        key: str,
        lang: str,
        data: bytes,
        *,
        recorded_by: str,
        recorder: str | None,
        now: datetime,
    ) -> Recording:
        """Store a new recording as a draft (replacing an earlier one); AudioError if unusable."""
        info = check_voice(data)
        name = file_name(key, lang)
        folder = self.root / AUDIO_DIR
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(folder / name, data)
        rec = Recording(
            file=name,
            recorded_by=recorded_by,
            recorder=recorder,
            recorded_at=now.astimezone(UTC).replace(microsecond=0),
            state="draft",
            seconds=round(info.seconds, 1),
        )
        self._change(lambda data: data.recordings.setdefault(key, {}).__setitem__(lang, rec))
        return rec

    def set_state(self, key: str, lang: str, state: State) -> bool:
        """Approve or reject a recording; False if there is none."""
        # Against the file as it is now: another process may have saved it a moment ago.
        if self._fresh(recheck=True).recordings.get(key, {}).get(lang) is None:
            return False

        def apply(data: AudioFile) -> None:
            rec = data.recordings[key][lang]
            data.recordings[key][lang] = rec.model_copy(update={"state": state})

        self._change(apply)
        return True

    def _change(self, apply: Callable[[AudioFile], None]) -> None:
        with self._lock:
            self._reload()
            data = self._data.model_copy(deep=True)
            apply(data)
            dumped = data.model_dump(mode="json", exclude_none=True)
            text = "# Voice notes: written by the bot and `civicbot content audio`.\n"
            text += yaml.safe_dump(dumped, allow_unicode=True, sort_keys=True)
            _write_atomically(self.index_path, text.encode())
            self._data = data
            self._stamp = self._mtime()
            self._served = {}


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def check_voice(data: bytes) -> OpusInfo:
    """A recording the bot accepts: OGG/Opus within the duration limits."""
    info = read_opus(data)
    if info.seconds > MAX_SECONDS:
        raise AudioError(
            f"too long: {info.seconds:.0f} s (at most {MAX_SECONDS:.0f} s)", "too_long"
        )
    if info.seconds < MIN_SECONDS:
        raise AudioError(f"too short: {info.seconds:.1f} s", "too_short")
    return info


def check_index(
    index: AudioIndex, languages: Iterable[str], key_exists: Callable[[str, str], bool]
) -> list[str]:
    """Every problem of the recordings: unknown keys and languages, bad or missing files."""
    problems = list(index.problems)
    codes = set(languages)
    used: set[str] = set()
    for key, lang, rec in index.entries():
        where = f"{INDEX_FILE}: recordings.{key}.{lang}"
        if not key_exists(key, lang):
            problems.append(f"{where}: no such {key.split(':')[0]} in the pack")
        if lang not in codes:
            problems.append(f"{where}: language '{lang}' is not in pack.yaml")
        used.add(rec.file)
        path = index.root / AUDIO_DIR / rec.file
        try:
            check_voice(path.read_bytes())
        except OSError:
            problems.append(f"{where}: {AUDIO_DIR}/{rec.file} is missing")
        except AudioError as exc:
            problems.append(f"{AUDIO_DIR}/{rec.file}: {exc}")
    return problems


def audio_coverage(
    index: AudioIndex, languages: Iterable[str], keys: Mapping[str, int]
) -> dict[str, dict[str, str]]:
    """Per language and kind of key: approved recordings out of what could be recorded."""
    found: dict[str, dict[str, int]] = {}
    for key, lang, rec in index.entries():
        if rec.state == "approved":
            kind = key.split(":", 1)[0]
            found.setdefault(lang, {}).setdefault(kind, 0)
            found[lang][kind] += 1
    return {
        lang: {kind: f"{found.get(lang, {}).get(kind, 0)}/{total}" for kind, total in keys.items()}
        for lang in languages
    }


def parse_key(text: str) -> tuple[str, ...]:
    """A key split into its parts; an empty tuple for an unknown kind."""
    parts = tuple(text.split(":"))
    return parts if parts and parts[0] in KEY_KINDS and len(parts) >= 2 else ()


def describe(rec: Recording) -> dict[str, Any]:
    """A recording as the desk's list shows it."""
    return {
        "file": rec.file,
        "state": rec.state,
        "recorded_by": rec.recorded_by,
        "recorded_at": rec.recorded_at.isoformat(),
        "seconds": rec.seconds,
    }
