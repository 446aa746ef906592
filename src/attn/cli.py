"""The `attn` command: serve, manage users, migrate the database.

Imports the app factory and services; nothing imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.config
import os
import secrets
import signal
import sys
from collections.abc import Coroutine
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar, cast

import typer

from attn import logs, metrics
from attn.config import (
    ConfigError,
    Settings,
    load_settings,
    private_directory,
    private_file,
    secret_key,
    write_private_file,
)
from attn.db.engine import create_engine, session_factory
from attn.db.migrate import upgrade
from attn.errors import AttnError
from attn.models import NewAccount, Role, format_time, utc_now
from attn.services import accounts, administration
from attn.services.administration import CLI_ACTOR
from attn.services.context import open_context
from attn.services.passwords import PasswordHasher

app = typer.Typer(help="ATTN: live classroom attendance.", no_args_is_help=True)
users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the SQL database.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")

T = TypeVar("T")

DEMO_ACCOUNTS = [
    ("teacher", "T1001", "Ayşe Yılmaz"),
    ("teacher", "T1002", "Mehmet Demir"),
    ("student", "S2001", "Elif Kaya"),
    ("student", "S2002", "Can Öztürk"),
    ("student", "S2003", "Zeynep Arslan"),
    ("admin", "A0001", "Deniz Admin"),
]


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"attn: {message}", err=True)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc), code=2)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def _one_line(exc: BaseException) -> str:
    return (f"{type(exc).__name__}: {exc}".splitlines() or [type(exc).__name__])[0]


def prepare_database(settings: Settings, *, required: bool = True) -> bool:
    """Create the data directory of an embedded database and apply migrations.

    A SQLite file (it holds the password hashes) is created for its owner alone, and SQLite
    gives its -wal and -shm files the database file's mode.
    """
    if settings.DATABASE_URL is None:
        private_directory(settings.DATA_DIR)
    database = settings.sqlite_path
    if database is not None and database.parent.is_dir():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        for path in (database, *(Path(f"{database}{end}") for end in ("-wal", "-shm"))):
            private_file(path)
    try:
        upgrade(settings.async_database_url)
    except Exception as exc:
        if required:
            fail(f"cannot migrate the database: {_one_line(exc)}")
        typer.echo(f"attn: cannot migrate the database: {_one_line(exc)}", err=True)
        return False
    return True


# How long a stop waits for requests in flight (a live roll's stream is cut after it).
GRACEFUL_STOP_SECONDS = 5


class Stopped(Exception):
    """SIGINT (Ctrl-C) or SIGTERM asked `attn serve` to stop."""


def _stop_on_signals() -> None:
    """Make SIGINT and SIGTERM unwind `attn serve` as `Stopped`, whatever it is doing, so the
    way out (the sweeper, the embedded server) runs and the process exits 0. A second signal
    while it stops is ignored rather than cutting the stop short."""

    def stop(signum: int, _frame: object) -> None:
        for each in (signal.SIGINT, signal.SIGTERM):
            signal.signal(each, signal.SIG_IGN)
        raise Stopped(signal.Signals(signum).name)

    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, stop)


def configure_logging(settings: Settings) -> None:
    """Log as `ATTN_LOG_FORMAT` and `ATTN_LOG_LEVEL` say (`attn.logs`)."""
    logging.config.dictConfig(logs.logging_config(settings.LOG_LEVEL, settings.LOG_FORMAT))


def metrics_directory(settings: Settings, port: int) -> Path:
    """Where the processes of `attn serve` keep their metrics: `PROMETHEUS_MULTIPROC_DIR`,
    else `ATTN_DATA_DIR/metrics-<port>` (one per server, so that two on one host never mix);
    emptied at each start."""
    named = os.environ.get(metrics.MULTIPROC_ENV)
    if not named:
        private_directory(settings.DATA_DIR)
    return metrics.use_directory(Path(named) if named else settings.DATA_DIR / f"metrics-{port}")


def _administer(settings: Settings, command: Any) -> Any:
    """Run `command(ctx)` (an administration service call) on the migrated database and
    the settings' Redis (the running server's embedded one when none is set), as the actor
    `cli`; a refusal is printed and exits with status 1."""
    prepare_database(settings)

    async def main() -> Any:
        async with open_context(settings) as ctx:
            return await command(ctx)

    try:
        return run(main())
    except AttnError as exc:
        fail(exc.message)


def _password_from_stdin(password_stdin: bool) -> str:
    if not password_stdin:
        fail("give the password on standard input with --password-stdin", code=2)
    return sys.stdin.readline().removesuffix("\n").removesuffix("\r")


SchoolNumberOption = Annotated[
    str, typer.Option("--school-number", help="The account's school number.")
]
PasswordStdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


@users_app.command("add")
def users_add(
    school_number: Annotated[str, typer.Option("--school-number", help="Unique school number.")],
    full_name: Annotated[str, typer.Option("--full-name", help="The person's full name.")],
    role: Annotated[str, typer.Option("--role", help="teacher, student or admin.")],
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Create one user account (or claim a student known only from a roster or a lesson)."""
    password = _password_from_stdin(password_stdin)
    settings = settings_or_exit()
    try:
        entry = accounts.validate_user(
            school_number=school_number, full_name=full_name, role=role, password=password
        )
    except AttnError as exc:
        fail(exc.message)

    async def add(ctx: Any) -> list[str]:
        return await accounts.add_users(
            db=ctx.db, hasher=ctx.hasher, entries=[entry], actor=CLI_ACTOR, at=ctx.now()
        )

    done = "claimed" if _administer(settings, add) else "added"
    typer.echo(f"{done} {entry.role.value} {entry.school_number}")


@users_app.command("import")
def users_import(
    file: Annotated[Path, typer.Argument(help="CSV: school_number,full_name,role,password")],
) -> None:
    """Create (or claim) every account of a CSV file, or none when any row is bad or taken."""
    settings = settings_or_exit()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")
    try:
        accounts.parse_import(text)
    except AttnError as exc:
        _print_problems(exc)
        fail(exc.message)

    async def import_all(ctx: Any) -> Any:
        try:
            return await administration.import_accounts(ctx, actor=CLI_ACTOR, text=text)
        except AttnError as exc:
            _print_problems(exc)
            raise

    check = _administer(settings, import_all)
    claimed = check.claimed
    typer.echo(
        f"imported {len(check.entries)} users" + (f" ({len(claimed)} claimed)" if claimed else "")
    )


def _print_problems(exc: AttnError) -> None:
    """Every bad row of an import after the first (which the error message names)."""
    for problem in getattr(exc, "problems", [])[1:]:
        where = f"line {problem.line}: " if problem.line else ""
        typer.echo(f"{where}{problem.message}", err=True)


@users_app.command("list")
def users_list(
    query: Annotated[
        str, typer.Option("--query", help="A school number's start or name words.")
    ] = "",
    role: Annotated[str | None, typer.Option("--role", help="teacher, student or admin.")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Only active or inactive accounts.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
) -> None:
    """List accounts: school number, role, active or not, password or single sign-on, name."""
    settings = settings_or_exit()
    wanted = _role_or_exit(role) if role is not None else None

    async def find(ctx: Any) -> list[Any]:
        return await administration.find_accounts(
            ctx, query=query, role=wanted, active=active, limit=limit, offset=offset
        )

    for account in _administer(settings, find):
        sign_in = ",".join(
            part for part, has in (("password", account.has_password), ("sso", account.sso)) if has
        )
        state = "active" if account.active else "inactive"
        typer.echo(
            f"{account.school_number}\t{account.role.value}\t{state}\t{sign_in or '-'}"
            f"\t{account.full_name}"
        )


def _role_or_exit(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        fail(f"--role must be one of {', '.join(role.value for role in Role)}", code=2)


def _change(school_number: str, changes: Any, done: str) -> None:
    settings = settings_or_exit()

    async def change(ctx: Any) -> Any:
        return await administration.change_account(
            ctx, actor=CLI_ACTOR, school_number=school_number, changes=changes
        )

    account = _administer(settings, change)
    typer.echo(f"{done} {account.role.value} {account.school_number}")


@users_app.command("set-password")
def users_set_password(
    school_number: SchoolNumberOption, password_stdin: PasswordStdinOption = False
) -> None:
    """Set an account's password; its sessions and remembered devices end at once."""
    password = _password_from_stdin(password_stdin)
    _change(school_number, administration.AccountChanges(password=password), "password set for")


@users_app.command("deactivate")
def users_deactivate(school_number: SchoolNumberOption) -> None:
    """Deactivate an account: it signs in no more, and its sessions end at once."""
    _change(school_number, administration.AccountChanges(active=False), "deactivated")


@users_app.command("reactivate")
def users_reactivate(school_number: SchoolNumberOption) -> None:
    """Let a deactivated account sign in again."""
    _change(school_number, administration.AccountChanges(active=True), "reactivated")


@users_app.command("set-role")
def users_set_role(
    school_number: SchoolNumberOption,
    role: Annotated[str, typer.Option("--role", help="teacher, student or admin.")],
) -> None:
    """Give an account another role; its sessions end at once."""
    changes = administration.AccountChanges(role=_role_or_exit(role))
    _change(school_number, changes, "role set:")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations to ATTN_DATABASE_URL."""
    settings = settings_or_exit()
    prepare_database(settings)
    typer.echo("database is up to date")


def _demo_accounts(settings: Settings) -> list[tuple[str, str, str]]:
    """Create the demo accounts in an empty database; (role, school number, password)."""
    from attn.db import users

    remembered = settings.DATA_DIR / "demo-accounts.txt"

    async def create() -> list[tuple[str, str, str]]:
        engine = create_engine(settings.async_database_url)
        try:
            db = session_factory(engine)
            async with db() as session:
                if await users.count_users(session=session) > 0:
                    return []
            entries = [
                NewAccount(
                    school_number=number,
                    full_name=name,
                    role=Role(role),
                    password=secrets.token_urlsafe(9),
                )
                for role, number, name in DEMO_ACCOUNTS
            ]
            await accounts.add_users(
                db=db,
                hasher=PasswordHasher(settings.PASSWORD_HASH_THREADS),
                entries=entries,
                actor=CLI_ACTOR,
                at=utc_now(),
            )
            return [(e.role.value, e.school_number, e.password or "") for e in entries]
        finally:
            await engine.dispose()

    created = run(create())
    if created:
        private_directory(settings.DATA_DIR)
        lines = "".join(f"demo {r} {n} {p}\n" for r, n, p in created)
        write_private_file(remembered, lines, replace=True)
        return created
    private_file(remembered)
    if remembered.exists():
        return [tuple(line.split()[1:4]) for line in remembered.read_text().splitlines()]  # type: ignore[misc]
    return []


@app.command()
def serve(
    demo: Annotated[bool, typer.Option("--demo", help="Create and print demo accounts.")] = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(help="Web worker processes.")] = None,
    sweep: Annotated[
        bool,
        typer.Option(
            "--sweep/--no-sweep", help="Run the persistence job here (off when `attn worker` does)."
        ),
    ] = True,
    server: Annotated[
        str,
        typer.Option(
            help="HTTP server: uvicorn (the default) or granian (needs `pip install granian`)."
        ),
    ] = "uvicorn",
) -> None:
    """Run the web service (applies database migrations first); Ctrl-C or SIGTERM stops it."""
    import uvicorn

    from attn.http.connections import protocol_factory
    from attn.store import embedded
    from attn.tasks.scheduler import SweeperThread

    # The listen address is also the default public URL: every worker must see the same.
    if host is not None:
        os.environ["ATTN_HOST"] = host
    if port is not None:
        os.environ["ATTN_PORT"] = str(port)
    settings = settings_or_exit()
    host, port = settings.HOST, settings.PORT
    workers = workers or settings.WORKERS
    if not 1 <= workers <= 64:
        fail("--workers must be between 1 and 64", code=2)
    if server not in ("uvicorn", "granian"):
        fail("--server must be uvicorn or granian", code=2)
    _stop_on_signals()
    try:
        prepare_database(settings)
        secret_key(settings)  # created once here, before workers fork and read it
        if demo:
            for role, number, password in _demo_accounts(settings):
                typer.echo(f"demo {role} {number} {password}")
            sys.stdout.flush()

        configure_logging(settings)
        if not settings.PUBLIC_URL and host in ("0.0.0.0", "::", ""):  # noqa: S104
            logging.getLogger("attn").warning(
                "listening on every address, but links and the allowed Host names are %s: "
                "set ATTN_PUBLIC_URL to the address users reach",
                settings.public_url,
            )
        # every worker process, and the sweeper here, count into one directory (attn.metrics)
        metrics_directory(settings, port)
        with ExitStack() as stack:
            try:
                redis_url = stack.enter_context(embedded.redis_url(settings))
            except Exception as exc:
                fail(f"cannot start the embedded Redis server: {_one_line(exc)}")
            # Every web worker, and the sweeper, use this one server.
            os.environ["ATTN_REDIS_URL"] = redis_url
            settings = settings.model_copy(update={"REDIS_URL": redis_url})
            if sweep:
                sweeper = SweeperThread(settings)
                sweeper.start()
                stack.callback(sweeper.stop)
            if server == "granian":
                _serve_granian(settings, host, port, workers)
                raise Stopped
            # uvicorn finishes the requests in flight when a signal stops it (then gives the
            # signal back, which `_stop_on_signals` turns into `Stopped`); on the way out the
            # sweeper finishes its pass and the embedded server is stopped.
            uvicorn.run(
                "attn.app:served_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                loop="uvloop",
                # httptools, with the head size and read timeouts it lacks (attn.http.connections)
                http=protocol_factory(settings),
                ws="none",
                # X-Forwarded-* are read by the app, and only from ATTN_TRUSTED_PROXIES
                proxy_headers=False,
                limit_concurrency=settings.MAX_CONNECTIONS,
                timeout_keep_alive=settings.KEEPALIVE_TIMEOUT_SECONDS,
                log_level=settings.LOG_LEVEL,
                # the workers log as this process does; the edge writes one line per request
                log_config=logs.logging_config(settings.LOG_LEVEL, settings.LOG_FORMAT),
                access_log=False,
                # A worker busy with a lecture-start burst on a small machine can take more
                # than uvicorn's 5 s to answer its supervisor's ping; it must not be killed.
                timeout_worker_healthcheck=30,
                # A live roll's event stream never ends by itself: a stop cuts it after this.
                timeout_graceful_shutdown=GRACEFUL_STOP_SECONDS,
            )
    except Stopped:
        pass
    typer.echo("attn: stopped", err=True)


def _serve_granian(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve the app with granian (HTTP/1.1, uvloop, one Rust runtime thread per worker). Its
    own head limits stand in for `attn.http.connections`; the app's edge checks the rest."""
    try:
        from granian import Granian
        from granian.constants import HTTPModes, Interfaces, Loops
        from granian.http import HTTP1Settings
    except ImportError:
        fail("--server granian needs granian: pip install granian")
    Granian(
        "attn.app:served_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(
            header_read_timeout=settings.KEEPALIVE_TIMEOUT_SECONDS * 1000,
            keep_alive=True,
            max_buffer_size=max(settings.MAX_HEADER_BYTES * 2, 65536),
        ),
        backpressure=settings.MAX_CONNECTIONS,
        log_level=cast(Any, settings.LOG_LEVEL.lower()),  # granian takes its own enum
        respawn_failed_workers=True,
        workers_kill_timeout=GRACEFUL_STOP_SECONDS,
    ).serve()


@app.command("fake-verifier")
def fake_verifier(
    port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1).")] = 8100,
    reject: Annotated[str, typer.Option(help="Comma-separated student numbers to reject.")] = "",
    delay: Annotated[float, typer.Option(help="Seconds before each answer.")] = 0.5,
) -> None:
    """Run a stand-in verifier that answers every check-in (for tests and demos)."""
    import uvicorn

    from attn.fake_verifier import create_fake_verifier

    settings = settings_or_exit()
    if not settings.VERIFIER_SECRET:
        fail("set ATTN_VERIFIER_SECRET (16+ characters), the same as the service's", code=2)
    configure_logging(settings)
    rejected = {item.strip() for item in reject.split(",") if item.strip()}
    typer.echo(f"fake verifier on http://127.0.0.1:{port}/ (rejects: {sorted(rejected) or 'none'})")
    uvicorn.run(
        create_fake_verifier(settings.VERIFIER_SECRET, reject=rejected, delay=delay),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )


@app.command()
def worker() -> None:
    """Run the persistence job every ATTN_SWEEP_INTERVAL_SECONDS until stopped."""
    from attn.tasks.exporter import Exporter
    from attn.tasks.scheduler import run_forever

    settings = settings_or_exit()
    configure_logging(settings)
    prepare_database(settings)
    serve_metrics = bool(settings.METRICS_PORT and settings.METRICS_TOKEN)
    if settings.METRICS_PORT and not settings.METRICS_TOKEN:
        logging.getLogger("attn").warning("ATTN_METRICS_PORT needs ATTN_METRICS_TOKEN: no metrics")
    metrics.use_memory()  # this process alone: scraped on its own port

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with open_context(settings) as ctx:
            exporter = Exporter(ctx, loop) if serve_metrics else None
            if exporter is not None:
                exporter.start()
            try:
                await run_forever(ctx, stop)
            finally:
                if exporter is not None:
                    await asyncio.to_thread(exporter.close)

    try:
        run(main())
    except Exception as exc:
        fail(f"worker stopped: {_one_line(exc)}")


sweep_app = typer.Typer(
    help="Persist finished lessons now; list, export and retry the lessons held back."
)
app.add_typer(sweep_app, name="sweep")


@sweep_app.callback(invoke_without_command=True)
def sweep(
    context: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run one pass and exit.")] = False,
) -> None:
    """Persist every finished lesson now (`--once`); exit 0 when nothing that was due is left
    in the queue (each such lesson is in SQL, or held and named), 1 when some are left."""
    if context.invoked_subcommand is not None:
        if once:
            fail("--once runs the sweep; give it without a subcommand", code=2)
        return
    from attn.tasks.sweep import sweep_until_done

    if not once:
        fail("use `attn sweep --once` (or `attn worker` to keep sweeping)", code=2)
    settings = settings_or_exit()
    configure_logging(settings)
    logging.getLogger("attn.sweep").setLevel(logging.WARNING)
    prepare_database(settings, required=False)

    async def main() -> tuple[Any, list[str], int]:
        async with open_context(settings) as ctx:
            summary, left = await sweep_until_done(ctx)
            return summary, left, await ctx.redis_client.held_count()

    try:
        summary, left, held_now = run(main())
    except Exception as exc:
        fail(f"sweep failed: {_one_line(exc)}")
    typer.echo(summary.line())
    if summary.held:
        typer.echo(
            f"held: {len(summary.held)} lessons the database refuses are set aside "
            "(still whole in Redis; see `attn sweep held`)",
            err=True,
        )
        for lesson_id, error in summary.held.items():
            typer.echo(f"  {lesson_id}: {error}", err=True)
    elif held_now:
        typer.echo(f"held: {held_now} lessons wait for an operator (`attn sweep held`)", err=True)
    if left:
        typer.echo(f"not persisted: {len(left)} due lessons are left", err=True)
        for lesson_id in left:
            reason = summary.errors.get(lesson_id, "held by another sweeper")
            typer.echo(f"  {lesson_id}: {reason}", err=True)
        raise typer.Exit(1)


def _held_context(command: Any) -> Any:
    """Run `command(ctx)` in a service context of the settings (no migrations: Redis only)."""
    settings = settings_or_exit()

    async def main() -> Any:
        async with open_context(settings) as ctx:
            return await command(ctx)

    try:
        return run(main())
    except Exception as exc:
        fail(_one_line(exc))


@sweep_app.command("held")
def sweep_held() -> None:
    """List the lessons the database refused, held back with the error, oldest first."""
    from attn.tasks import held

    found = _held_context(held.held_lessons)
    if not found:
        typer.echo("no lessons are held")
        return
    for lesson, fields in found:
        name = fields.get("lesson_name", "(gone from Redis)")
        teacher = fields.get("teacher_school_number", "?")
        typer.echo(
            f"{lesson.lesson_id}  held since {format_time(lesson.held_at)}  "
            f"{name} ({teacher}): {lesson.error}"
        )


@sweep_app.command("retry")
def sweep_retry(
    lesson_id: Annotated[str, typer.Argument(help="The held lesson's id.")],
) -> None:
    """Put a held lesson back into the persistence queue, due now (after repairing it)."""
    from attn.tasks import held

    async def command(ctx: Any) -> bool:
        return await held.retry(ctx, lesson_id)

    if not _held_context(command):
        fail(f"lesson {lesson_id} is not held")
    typer.echo(f"lesson {lesson_id} is due again: the next sweep writes it")


@sweep_app.command("export")
def sweep_export(
    lesson_id: Annotated[str, typer.Argument(help="The lesson's id.")],
) -> None:
    """Print a lesson's live data as stored (lesson, records, audit trail, roster) as JSON."""
    import json

    from attn.tasks import held

    async def command(ctx: Any) -> Any:
        return await held.export(ctx, lesson_id)

    exported = _held_context(command)
    if exported is None:
        fail(f"lesson {lesson_id} is not in Redis")
    typer.echo(json.dumps(exported, ensure_ascii=False, indent=2))


# --- LTI 1.3 ---------------------------------------------------------------------------------

lti_app = typer.Typer(
    help="LTI 1.3: the learning platforms (Moodle, Canvas, Brightspace) that launch ATTN.",
    no_args_is_help=True,
)
app.add_typer(lti_app, name="lti")


def _lti_context(command: Any) -> Any:
    """Run `command(ctx)` in a service context of the settings, the database migrated."""
    settings = settings_or_exit()
    prepare_database(settings)

    async def main() -> Any:
        async with open_context(settings) as ctx:
            return await command(ctx)

    try:
        return run(main())
    except (ValueError, AttnError) as exc:
        fail(str(exc.message if isinstance(exc, AttnError) else exc), code=2)
    except Exception as exc:
        fail(f"lti: {_one_line(exc)}")


@lti_app.command("add-platform")
def lti_add_platform(
    issuer: Annotated[str, typer.Option("--issuer", help="The platform's issuer (iss).")],
    client_id: Annotated[str, typer.Option("--client-id", help="ATTN's client id there.")],
    auth_login_url: Annotated[
        str, typer.Option("--auth-login-url", help="Its OIDC authentication request URL.")
    ],
    auth_token_url: Annotated[
        str, typer.Option("--auth-token-url", help="Its OAuth 2 access token URL.")
    ],
    keyset_url: Annotated[str, typer.Option("--keyset-url", help="Its public keyset URL.")],
    deployment_id: Annotated[
        list[str], typer.Option("--deployment-id", help="A deployment id (repeatable).")
    ],
    name: Annotated[str, typer.Option("--name", help="A name to show.")] = "",
    auth_audience: Annotated[
        str, typer.Option("--auth-audience", help="The token request's audience, if not its URL.")
    ] = "",
    frame_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--frame-origin",
            help="Another origin its course pages are served from (repeatable), such as a "
            "Canvas school's domain.",
        ),
    ] = None,
) -> None:
    """Register a platform (or add deployments to one registered before)."""
    from attn.services import lti

    platform = _lti_context(
        lambda ctx: lti.add_platform(
            ctx,
            issuer=issuer,
            client_id=client_id,
            auth_login_url=auth_login_url,
            auth_token_url=auth_token_url,
            keyset_url=keyset_url,
            deployment_ids=deployment_id,
            name=name,
            auth_audience=auth_audience or None,
            frame_origins=frame_origin or [],
        )
    )
    typer.echo(f"platform {platform.id}: {platform.issuer} client {platform.client_id}")


@lti_app.command("list")
def lti_list() -> None:
    """The registered platforms: id, issuer, client id, deployments."""
    from attn.services import lti

    for platform in _lti_context(lti.list_platforms):
        deployments = ",".join(platform.deployment_ids)
        typer.echo(
            f"{platform.id}\t{platform.issuer}\t{platform.client_id}\t{deployments}\t{platform.name}"
        )


@lti_app.command("remove")
def lti_remove(platform_id: Annotated[int, typer.Argument(help="The platform's id.")]) -> None:
    """Remove a platform: its launches stop working; ATTN's courses and history stay."""
    from attn.services import lti

    if not _lti_context(lambda ctx: lti.remove_platform(ctx, platform_id)):
        fail(f"no platform {platform_id}", code=1)
    typer.echo(f"platform {platform_id} removed")


@lti_app.command("rotate-key")
def lti_rotate_key() -> None:
    """A new signing key; the old one is still published for ATTN_LTI_KEY_GRACE_SECONDS."""
    from attn.services import lti

    typer.echo(f"signing key {_lti_context(lti.rotate_key)}")


@lti_app.command("registration-url")
def lti_registration_url() -> None:
    """A one-time Dynamic Registration URL to paste into a platform (valid for a day)."""
    from attn.services import lti

    typer.echo(_lti_context(lti.new_registration_url))


@lti_app.command("send-grades")
def lti_send_grades() -> None:
    """Drain the grade passback outbox once (the worker does so after every sweep)."""
    from attn.services import lti_courses

    summary = _lti_context(lti_courses.drain_grades)
    typer.echo(f"courses {summary.courses}, scores sent {summary.scores}, failed {summary.failed}")
    if summary.failed:
        raise typer.Exit(1)
