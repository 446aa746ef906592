"""The `attn` command, run as the real executable in subprocesses.

Every test builds its own environment: the caller's environment without any `ATTN_*`
variable, plus exactly the settings the test needs. Servers bind to 127.0.0.1 only, are
bounded by timeouts and are always stopped (with their embedded Valkey) in a `finally`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlalchemy import text

from attn.db.engine import create_engine
from tests.support.database import Database

ATTN = Path(sys.executable).parent / "attn"
CLI_TIMEOUT = 30
STARTUP_TIMEOUT = 30
SHUTDOWN_TIMEOUT = 10
API = "/api/v1"


# --- helpers -----------------------------------------------------------------------------


def cli_env(**settings: str | Path) -> dict[str, str]:
    """The caller's environment without any ATTN_* variable, plus `settings` as ATTN_*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ATTN_")}
    env.update({f"ATTN_{name}": str(value) for name, value in settings.items()})
    return env


def attn(
    *args: str, env: dict[str, str], stdin: str | bytes | None = None
) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    result = subprocess.run(
        [str(ATTN), *args],
        input=data if data is not None else b"",
        env=env,
        capture_output=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", "replace"),
        result.stderr.decode("utf-8", "replace"),
    )


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)


def assert_one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    """Non-zero exit and a single non-empty line on stderr (no traceback, no usage box)."""
    assert result.returncode != 0, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected a one-line reason on stderr, got:\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return lines[0]


async def _query(database: Database, statement: str, **params: Any) -> list[Any]:
    engine = create_engine(database.async_url)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(text(statement), params)).all())
    finally:
        await engine.dispose()


def sql(database: Database, statement: str, **params: Any) -> list[Any]:
    return asyncio.run(_query(database, statement, **params))


def user_count(database: Database) -> int:
    return int(sql(database, "SELECT count(*) FROM users")[0][0])


def users_by_number(database: Database) -> dict[str, tuple[str, str, str]]:
    rows = sql(database, "SELECT school_number, full_name, role, password_hash FROM users")
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def password_hash(database: Database, school_number: str) -> str:
    rows = sql(
        database,
        "SELECT password_hash FROM users WHERE school_number = :number",
        number=school_number,
    )
    assert len(rows) == 1, rows
    return str(rows[0][0])


def verifies(password_hash: str, password: str) -> bool:
    try:
        return PasswordHasher(1).verify(password_hash, password)
    except VerifyMismatchError:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def valkey_pids(data_dir: Path) -> list[int]:
    """valkey-server processes whose command line mentions `data_dir`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "valkey-server" in cmdline and str(data_dir) in cmdline:
            pids.append(int(entry.name))
    return pids


def child_cmdlines(pid: int) -> list[str]:
    """Command lines of the direct children of `pid`."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            children.append(cmdline)
    return children


@pytest.fixture
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short data directory, so the embedded Valkey socket fits inside it."""
    return tmp_path_factory.mktemp("attn-data")


# --- attn users add ----------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""], ids=["lf", "crlf", "none"])
def test_users_add_reads_password_without_line_ending(
    clean_database: Database, data_dir: Path, ending: str
) -> None:
    env = cli_env(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    password = "s3cret pass phrase "  # spaces are part of the password; only LF/CRLF is not
    result = attn(
        "users",
        "add",
        "--school-number",
        "T100",
        "--full-name",
        "Ada Lovelace",
        "--role",
        "teacher",
        "--password-stdin",
        env=env,
        stdin=password + ending,
    )
    assert_ok(result)
    users = users_by_number(clean_database)
    assert set(users) == {"T100"}
    full_name, role, stored_hash = users["T100"]
    assert (full_name, role) == ("Ada Lovelace", "teacher")
    assert verifies(stored_hash, password)
    for wrong in (password + "\n", password + "\r", password + "\r\n", password.rstrip()):
        assert not verifies(stored_hash, wrong), repr(wrong)


def test_users_add_duplicate_school_number_fails(clean_database: Database, data_dir: Path) -> None:
    env = cli_env(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    args = ("users", "add", "--school-number", "S200", "--full-name", "First One")
    assert_ok(attn(*args, "--role", "student", "--password-stdin", env=env, stdin="first\n"))
    first_hash = password_hash(clean_database, "S200")

    result = attn(
        "users",
        "add",
        "--school-number",
        "S200",
        "--full-name",
        "Second One",
        "--role",
        "teacher",
        "--password-stdin",
        env=env,
        stdin="second\n",
    )
    reason = assert_one_line_failure(result)
    assert "S200" in reason
    assert users_by_number(clean_database) == {"S200": ("First One", "student", first_hash)}


@pytest.mark.parametrize(
    ("options", "stdin"),
    [
        pytest.param(["--role", "principal", "--password-stdin"], "pw\n", id="bad-role"),
        pytest.param(
            ["--school-number", "S 300", "--role", "student", "--password-stdin"],
            "pw\n",
            id="number-with-space",
        ),
        pytest.param(
            ["--school-number", "{S300}", "--role", "student", "--password-stdin"],
            "pw\n",
            id="number-with-braces",
        ),
        pytest.param(
            ["--school-number", "S" * 100, "--role", "student", "--password-stdin"],
            "pw\n",
            id="number-100-chars",
        ),
        pytest.param(["--role", "student", "--password-stdin"], "\n", id="empty-password-lf"),
        pytest.param(["--role", "student", "--password-stdin"], "\r\n", id="empty-password-crlf"),
        pytest.param(["--role", "student", "--password-stdin"], "", id="no-stdin"),
        pytest.param(["--role", "student"], "pw\n", id="missing-password-stdin"),
    ],
)
def test_users_add_rejects_bad_input(
    clean_database: Database, data_dir: Path, options: list[str], stdin: str
) -> None:
    env = cli_env(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    if "--school-number" not in options:
        options = ["--school-number", "S300", *options]
    result = attn("users", "add", "--full-name", "Bad Input", *options, env=env, stdin=stdin)
    assert_one_line_failure(result)
    assert user_count(clean_database) == 0


# --- attn users import -------------------------------------------------------------------

HEADER = "school_number,full_name,role,password\n"


def write_csv(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def test_users_import_good_file(clean_database: Database, data_dir: Path, tmp_path: Path) -> None:
    env = cli_env(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    csv_file = write_csv(
        tmp_path / "users.csv",
        HEADER
        + "T500,Grace Hopper,teacher,hopper-pw\n"
        + 'S501,"Turing, Alan",student,turing pw\n'
        + 'S502,Zeynep Öztürk,student,"pa,ss"\n'
        + "A503,Root Admin,admin,admin-pw\n",
    )
    assert_ok(attn("users", "import", str(csv_file), env=env))
    users = users_by_number(clean_database)
    assert {number: (name, role) for number, (name, role, _) in users.items()} == {
        "T500": ("Grace Hopper", "teacher"),
        "S501": ("Turing, Alan", "student"),
        "S502": ("Zeynep Öztürk", "student"),
        "A503": ("Root Admin", "admin"),
    }
    assert verifies(users["T500"][2], "hopper-pw")
    assert verifies(users["S501"][2], "turing pw")
    assert verifies(users["S502"][2], "pa,ss")


def test_users_import_bom_crlf_and_quoted_names(
    clean_database: Database, data_dir: Path, tmp_path: Path
) -> None:
    """What a spreadsheet saves as "CSV UTF-8": a BOM, CRLF line ends, quoted cells."""
    env = cli_env(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    content = (
        "school_number,full_name,role,password\r\n"
        'T600,"Lovelace, Ada",teacher,ada-pw\r\n'
        'S601,"Kaya, Elif ""Eli""",student,"elif pw"\r\n'
    )
    csv_file = write_csv(tmp_path / "excel.csv", b"\xef\xbb\xbf" + content.encode("utf-8"))
    assert_ok(attn("users", "import", str(csv_file), env=env))
    users = users_by_number(clean_database)
    assert {number: (name, role) for number, (name, role, _) in users.items()} == {
        "T600": ("Lovelace, Ada", "teacher"),
        "S601": ('Kaya, Elif "Eli"', "student"),
    }
    assert verifies(users["T600"][2], "ada-pw")
    assert verifies(users["S601"][2], "elif pw")
    assert not verifies(users["S601"][2], "elif pw\r")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            HEADER + "S700,Good One,student,pw1\nS701,Bad Role,principal,pw2\n", id="bad-role"
        ),
        pytest.param(
            HEADER + "S700,Good One,student,pw1\nS 701,Bad Number,student,pw2\n",
            id="bad-number",
        ),
        pytest.param(
            HEADER + "S700,Good One,student,pw1\nS701,Empty Password,student,\n",
            id="empty-password",
        ),
        pytest.param(
            HEADER + "S700,Good One,student,pw1\nS701,Too,Many,student,pw2\n", id="extra-column"
        ),
        pytest.param(
            HEADER + "S700,Good One,student,pw1\nS701,Other,student,pw2\nS700,Again,student,pw3\n",
            id="duplicate-row",
        ),
        pytest.param(
            "number,name,role,password\nS700,Good One,student,pw1\n", id="wrong-header-names"
        ),
        pytest.param(
            "school_number,role,full_name,password\nS700,student,Good One,pw1\n",
            id="wrong-header-order",
        ),
        pytest.param("S700,Good One,student,pw1\nS701,Other,student,pw2\n", id="no-header"),
    ],
)
def test_users_import_bad_file_imports_nothing(
    clean_database: Database, data_dir: Path, tmp_path: Path, content: str
) -> None:
    env = cli_env(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    csv_file = write_csv(tmp_path / "users.csv", content)
    assert_one_line_failure(attn("users", "import", str(csv_file), env=env))
    assert user_count(clean_database) == 0


def test_users_import_clash_with_existing_user_imports_nothing(
    clean_database: Database, data_dir: Path, tmp_path: Path
) -> None:
    env = cli_env(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    assert_ok(
        attn(
            "users",
            "import",
            str(write_csv(tmp_path / "a.csv", HEADER + "S800,Old,student,old\n")),
            env=env,
        )
    )
    before = users_by_number(clean_database)
    assert set(before) == {"S800"}

    csv_file = write_csv(
        tmp_path / "b.csv",
        HEADER + "S801,New One,student,pw1\nS800,Clash,teacher,pw2\nS802,New Two,student,pw3\n",
    )
    reason = assert_one_line_failure(attn("users", "import", str(csv_file), env=env))
    assert "S800" in reason
    assert users_by_number(clean_database) == before


def test_users_import_missing_file(
    clean_database: Database, data_dir: Path, tmp_path: Path
) -> None:
    env = cli_env(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    assert_one_line_failure(attn("users", "import", str(tmp_path / "nope.csv"), env=env))
    assert user_count(clean_database) == 0


# --- attn db upgrade ---------------------------------------------------------------------


def test_db_upgrade_is_idempotent(clean_database: Database, data_dir: Path) -> None:
    env = cli_env(DATABASE_URL=clean_database.url, DATA_DIR=data_dir)
    assert_ok(attn("db", "upgrade", env=env))
    assert_ok(attn("db", "upgrade", env=env))
    assert user_count(clean_database) == 0


def test_db_upgrade_creates_default_sqlite_database(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    env = cli_env(DATA_DIR=data)
    assert_ok(attn("db", "upgrade", env=env))
    assert_ok(attn("db", "upgrade", env=env))
    db_file = data / "attn.sqlite3"
    assert db_file.is_file()
    database = Database(f"sqlite:///{db_file}", f"sqlite+aiosqlite:///{db_file}")
    assert user_count(database) == 0


# --- bad settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("STUDENT_SESSION_TTL_SECONDS", "0"),
        ("TEACHER_SESSION_TTL_SECONDS", "-5"),
        ("WORKERS", "0"),
        ("DATABASE_URL", "mysql://x"),
        ("REDIS_URL", "http://x"),
    ],
)
@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"]], ids=["serve", "db-upgrade"])
def test_bad_setting_stops_with_one_line_reason(
    data_dir: Path, tmp_path: Path, name: str, value: str, command: list[str]
) -> None:
    env = cli_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'attn.sqlite3'}",
        DATA_DIR=data_dir,
        HOST="127.0.0.1",
        PORT=str(free_port()),
    )
    env[f"ATTN_{name}"] = value
    reason = assert_one_line_failure(attn(*command, env=env))
    assert f"ATTN_{name}" in reason
    assert not valkey_pids(data_dir)


# --- attn serve --------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    stdout_path: Path
    stderr_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return (
            f"stdout:\n{self.stdout_path.read_text(errors='replace')}\n"
            f"stderr:\n{self.stderr_path.read_text(errors='replace')}"
        )


@contextlib.contextmanager
def serving(env: dict[str, str], log_dir: Path, *args: str) -> Iterator[Server]:
    """Run `attn serve ARGS` on a free port of 127.0.0.1 until it answers /healthz."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path = log_dir / "stdout.txt"
    stderr_path = log_dir / "stderr.txt"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [str(ATTN), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=env,
            start_new_session=True,
        )
    server = Server(process, port, stdout_path, stderr_path)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert process.poll() is None, f"attn serve exited early\n{server.output()}"
            assert time.monotonic() < deadline, f"attn serve did not answer\n{server.output()}"
            try:
                if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield server
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Make sure a server and everything in its session is gone."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=SHUTDOWN_TIMEOUT)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=SHUTDOWN_TIMEOUT)


def kill_leftover_valkey(data_dir: Path) -> None:
    for pid in valkey_pids(data_dir):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def stop_and_check(server: Server, data_dir: Path, signum: signal.Signals) -> None:
    """Signal the serve process: it exits within the timeout and leaves no Valkey behind."""
    server.process.send_signal(signum)
    try:
        server.process.wait(timeout=SHUTDOWN_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"attn serve did not exit after {signum.name}\n{server.output()}")
    deadline = time.monotonic() + 2
    while valkey_pids(data_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not valkey_pids(data_dir), (
        f"valkey-server outlived attn serve after {signum.name}\n{server.output()}"
    )


def demo_lines(server: Server) -> list[str]:
    lines = server.stdout_path.read_text().splitlines()
    return [line for line in lines if line.startswith("demo ")]


def demo_accounts(lines: list[str]) -> dict[str, list[tuple[str, str]]]:
    accounts: dict[str, list[tuple[str, str]]] = {}
    for line in lines:
        parts = line.split(" ")
        assert len(parts) == 4, line
        _, role, number, password = parts
        assert role in ("teacher", "student", "admin"), line
        accounts.setdefault(role, []).append((number, password))
    return accounts


def login(client: httpx.Client, number: str, password: str) -> tuple[dict[str, str], Any]:
    response = client.post(
        f"{API}/auth/login", json={"school_number": number, "password": password}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return {"Authorization": f"Bearer {body['access_token']}"}, body["user"]


def start_find_and_join(
    client: httpx.Client, teacher: tuple[str, str], student: tuple[str, str], lesson_name: str
) -> dict[str, Any]:
    teacher_headers, teacher_user = login(client, *teacher)
    student_headers, _ = login(client, *student)
    response = client.post(
        f"{API}/teacher/lessons",
        json={"lesson_name": lesson_name, "duration_minutes": 60},
        headers=teacher_headers,
    )
    assert response.status_code == 201, response.text
    lesson: dict[str, Any] = response.json()
    assert lesson["status"] == "active"

    response = client.get(
        f"{API}/student/lessons",
        params={"lesson_name": lesson_name.upper(), "teacher_name": teacher_user["full_name"]},
        headers=student_headers,
    )
    assert response.status_code == 200, response.text
    assert [found["lesson_id"] for found in response.json()] == [lesson["lesson_id"]]

    response = client.post(
        f"{API}/student/lessons/{lesson['lesson_id']}/attendance",
        json={},
        headers=student_headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["student_number"] == student[0]
    return lesson


def test_serve_demo_with_embedded_defaults_and_restart(data_dir: Path, tmp_path: Path) -> None:
    env = cli_env(DATA_DIR=data_dir)
    socket_path = data_dir / "valkey" / "valkey.sock"
    assert len(str(socket_path)) <= 100  # short enough to live inside the data directory
    try:
        # First run: demo accounts are created and printed before the server answers.
        with serving(env, tmp_path / "run1", "--demo") as server:
            first_lines = demo_lines(server)  # read only after /healthz answered
            accounts = demo_accounts(first_lines)
            assert accounts.get("teacher"), server.output()
            assert accounts.get("student"), server.output()
            teacher, student = accounts["teacher"][0], accounts["student"][0]

            assert socket_path.is_socket()
            assert len(valkey_pids(data_dir)) == 1

            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                lesson = start_find_and_join(client, teacher, student, "Embedded Demo")
                assert client.get("/readyz").status_code == 200
            stop_and_check(server, data_dir, signal.SIGINT)

        # Second run on the same data directory: the same accounts, the lesson survives.
        with serving(env, tmp_path / "run2", "--demo") as server:
            assert sorted(demo_lines(server)) == sorted(first_lines)
            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                teacher_headers, _ = login(client, *teacher)
                student_headers, _ = login(client, *student)
                response = client.get(
                    f"{API}/teacher/lessons/{lesson['lesson_id']}", headers=teacher_headers
                )
                assert response.status_code == 200, response.text
                assert response.json()["status"] == "active"
                assert response.json()["attendee_count"] == 1
                response = client.get(
                    f"{API}/teacher/lessons/{lesson['lesson_id']}/records",
                    headers=teacher_headers,
                )
                assert response.status_code == 200, response.text
                assert [r["student_number"] for r in response.json()] == [student[0]]
                response = client.post(
                    f"{API}/student/lessons/{lesson['lesson_id']}/attendance",
                    json={},
                    headers=student_headers,
                )
                assert response.status_code == 200, response.text
                assert client.get("/readyz").status_code == 200
            stop_and_check(server, data_dir, signal.SIGINT)
    finally:
        kill_leftover_valkey(data_dir)


@pytest.mark.parametrize("signum", [signal.SIGTERM], ids=["SIGTERM"])
def test_serve_signal_stops_embedded_valkey(
    data_dir: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    """`kill PID` (what systemd, docker stop and CI runners send) stops the embedded server too."""
    env = cli_env(DATA_DIR=data_dir)
    try:
        with serving(env, tmp_path / "run") as server:
            assert len(valkey_pids(data_dir)) == 1
            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                assert client.get("/readyz").status_code == 200
            stop_and_check(server, data_dir, signum)
    finally:
        kill_leftover_valkey(data_dir)


def test_serve_two_workers_share_embedded_valkey(data_dir: Path, tmp_path: Path) -> None:
    env = cli_env(DATA_DIR=data_dir)
    try:
        with serving(env, tmp_path / "run", "--demo", "--workers", "2") as server:
            accounts = demo_accounts(demo_lines(server))
            assert accounts.get("teacher"), server.output()
            assert len(accounts.get("student", [])) >= 2, server.output()

            workers = [c for c in child_cmdlines(server.process.pid) if "spawn_main" in c]
            assert len(workers) == 2, child_cmdlines(server.process.pid)
            assert len(valkey_pids(data_dir)) == 1

            # A fresh connection per request, so requests spread over both workers.
            limits = httpx.Limits(max_keepalive_connections=0)
            with httpx.Client(base_url=server.base_url, timeout=10, limits=limits) as client:
                lesson = start_find_and_join(
                    client, accounts["teacher"][0], accounts["student"][0], "Two Workers"
                )
                student_headers, _ = login(client, *accounts["student"][1])
                response = client.post(
                    f"{API}/student/lessons/{lesson['lesson_id']}/attendance",
                    json={},
                    headers=student_headers,
                )
                assert response.status_code == 201, response.text
                teacher_headers, _ = login(client, *accounts["teacher"][0])
                for _ in range(6):
                    response = client.get(
                        f"{API}/teacher/lessons/{lesson['lesson_id']}", headers=teacher_headers
                    )
                    assert response.status_code == 200, response.text
                    assert response.json()["attendee_count"] == 2
                    assert client.get("/readyz").status_code == 200
            stop_and_check(server, data_dir, signal.SIGTERM)
    finally:
        kill_leftover_valkey(data_dir)
