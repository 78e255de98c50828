"""Real database servers (Debian's MariaDB and PostgreSQL) started on a loopback port for a test."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MARIADB = ("mariadb-install-db", "mariadbd")
POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"database server exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"database server not listening after {timeout}s: {log.read_text()[-2000:]}")


def _require(*commands: str) -> None:
    missing = [c for c in commands if shutil.which(c) is None and not Path(c).exists()]
    if missing:
        raise RuntimeError(
            f"{', '.join(missing)} not found: install Debian's mariadb-server and postgresql "
            "packages (.ci/run does)"
        )


@contextmanager
def mariadb(workdir: Path) -> Iterator[str]:
    """A MariaDB server with an empty database ``pinpipe``; yields its SQLAlchemy URL."""
    _require(*MARIADB)
    data, log, port = workdir / "mariadb", workdir / "mariadb.log", free_port()
    subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={data}",
            "--user=root",
            "--skip-test-db",
            "--auth-root-authentication-method=normal",
        ],
        check=True,
        capture_output=True,
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={data}",
                "--user=root",
                f"--port={port}",
                "--bind-address=127.0.0.1",
                f"--socket={data}/mysqld.sock",
                "--skip-networking=0",
                "--innodb-buffer-pool-size=64M",
                "--character-set-server=utf8mb4",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_port(port, proc, log)
        import pymysql

        conn = pymysql.connect(host="127.0.0.1", port=port, user="root", password="")
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE pinpipe CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        conn.close()
        yield f"mysql+pymysql://root@127.0.0.1:{port}/pinpipe?charset=utf8mb4"
    finally:
        proc.terminate()
        proc.wait(30)


@contextmanager
def postgres(workdir: Path) -> Iterator[str]:
    """A PostgreSQL server (run as the ``postgres`` user, which it requires); yields its URL."""
    _require(str(POSTGRES_BIN / "initdb"), str(POSTGRES_BIN / "pg_ctl"))
    # The server's user must reach its folder: pytest's own temporary folders are private.
    own = Path(tempfile.mkdtemp(prefix="pinpipe-pg-"))
    own.chmod(0o755)
    data, log, port = own / "data", own / "postgres.log", free_port()
    user = pwd.getpwnam("postgres")
    os.chown(own, user.pw_uid, user.pw_gid)
    log.touch()
    os.chown(log, user.pw_uid, user.pw_gid)

    def as_postgres(*argv: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv], capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"{argv[0]} failed: {done.stdout}{done.stderr}")

    as_postgres(
        str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", "pinpipe", "--auth=trust", "-E", "UTF8"
    )
    as_postgres(
        str(POSTGRES_BIN / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(log),
        "-w",
        "start",
        "-o",
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1",
    )
    try:
        yield f"postgresql+psycopg://pinpipe@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
        shutil.rmtree(own, ignore_errors=True)
