"""A throwaway PostgreSQL server for the tests, started from the distribution's binaries.

PostgreSQL refuses to run as root, so under root (CI containers) the server runs as the
`postgres` user the Debian package creates, in a temporary directory handed to that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ENABLE_HINT = "PostgreSQL tests need the server binaries: apt-get install postgresql"


def find_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin directory (PG_BIN overrides), if any."""
    override = os.environ.get("PG_BIN")
    candidates = [override] if override else []
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """One running cluster; `database()` hands out a fresh, empty database URL."""

    bin_dir: Path
    root: Path
    port: int = 0
    prefix: list[str] = field(default_factory=list)

    def _run(self, *args: str) -> None:
        subprocess.run([*self.prefix, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        """initdb in the temp dir and start the server on a free port."""
        data, sockets = self.root / "data", self.root / "sockets"
        sockets.mkdir()
        if os.geteuid() == 0:
            # PostgreSQL will not run as root: hand the directory to the unprivileged user.
            owner = pwd.getpwnam("postgres")
            for path in (self.root, sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self._run(
            str(self.bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "civicbot",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        self.port = _free_port()
        options = (
            f"-p {self.port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w",
            "-l", str(self.root / "server.log"), "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server at once and remove its files."""
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m",
                      "immediate", "stop")  # fmt: skip
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A connection URL for a database of this server."""
        return f"postgresql://civicbot@127.0.0.1:{self.port}/{database}"

    def _psql(self, sql: str) -> None:
        psql = self.bin_dir / "psql"
        subprocess.run(
            [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url(), "-c", sql],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def database(self) -> tuple[str, str]:
        """Create an empty database; return its name and URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        self._psql(f'CREATE DATABASE "{name}"')
        return name, self.url(name)

    def drop(self, name: str) -> None:
        """Drop a database, closing what is still connected to it."""
        self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server() -> PgServer | None:
    """Start a throwaway server, or None when PostgreSQL is not installed."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return None
    server = PgServer(bin_dir, Path(tempfile.mkdtemp(prefix="civicbot-pg-")))
    try:
        server.start()
    except BaseException:
        shutil.rmtree(server.root, ignore_errors=True)
        raise
    return server
