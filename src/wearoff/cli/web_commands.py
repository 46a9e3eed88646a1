"""Commands of the clinic web app: serve it, seed a demo clinic, add users and API tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wearoff.cli.apps import app
from wearoff.cli.common import console, fail
from wearoff.cli.records_commands import DatabaseUrlOption, records_errors

demo_app = typer.Typer(help="A demo clinic with simulated patients and users.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
users_app = typer.Typer(help="Users of the web app and the REST API.", no_args_is_help=True)
app.add_typer(users_app, name="users")

DEFAULT_DEMO_DB = Path("build/demo.db")


def _demo_url(database_url: str | None) -> str:
    if database_url:
        return database_url
    DEFAULT_DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DEMO_DB}"


def _seed(url: str, patients: int, seed: int, force: bool) -> None:
    from wearoff.records.db import mask_url
    from wearoff.web.demo import seed_demo

    if force and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    with records_errors(url), console.status("seeding the demo clinic"):
        logins = seed_demo(url, patients=patients, seed=seed)
    console.print(f"demo clinic in {mask_url(url)}; sign in with:")
    for login in logins:
        console.print(f"  {login.role:<11} user [bold]{login.username}[/]  password [bold]{login.password}[/]")


@demo_app.command("seed")
def demo_seed_command(
    database_url: DatabaseUrlOption = None,
    patients: Annotated[int, typer.Option(min=1, max=5000, help="Simulated patients.")] = 60,
    seed: Annotated[int, typer.Option(help="Seed of the simulation.")] = 7,
    force: Annotated[bool, typer.Option("--force", help="Start from an empty SQLite file.")] = False,
) -> None:
    """Seed a demo clinic (default build/demo.db) and print the logins of its users."""
    _seed(_demo_url(database_url), patients, seed, force)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    database_url: DatabaseUrlOption = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Seed a fresh demo clinic (build/demo.db) and serve it.")
    ] = False,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (one per core serves the most requests).")
    ] = 1,
) -> None:
    """Serve the clinic web app and the REST API (/api/v1, docs at /api/docs)."""
    import os
    import secrets

    import uvicorn

    from wearoff.records import db
    from wearoff.records.errors import RecordsError
    from wearoff.web import WebSettings, create_app
    from wearoff.web.app import freeze_long_lived
    from wearoff.web.settings import ENV_SECRET

    if demo:
        url = _demo_url(database_url)
        _seed(url, 60, 7, force=True)
    else:
        url = database_url or db.database_url()
    engine = db.make_engine(url)
    try:
        db.check_schema(engine)
    except RecordsError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    console.print(f"wearoff at http://{host}:{port}  (Ctrl-C to stop)")
    if workers == 1:
        app = freeze_long_lived(create_app(WebSettings(database_url=url)))
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    # worker processes build their app from the environment; they must share the session signing key
    os.environ[db.ENV_URL] = url
    os.environ.setdefault(ENV_SECRET, secrets.token_urlsafe(32))
    uvicorn.run(
        "wearoff.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


@users_app.command("add")
def users_add_command(
    username: Annotated[str, typer.Argument(help="User name (letters, digits, . _ - @).")],
    role: Annotated[str, typer.Option(help="admin, injector or front_desk.")] = "injector",
    clinic: Annotated[str, typer.Option(help="The user's clinic.")] = "default",
    name: Annotated[str | None, typer.Option(help="Name shown in the app.")] = None,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Add a user to a clinic."""
    from wearoff.cli.records_commands import records_session
    from wearoff.records import db
    from wearoff.web.errors import InvalidInputError
    from wearoff.web.services import users

    url = database_url or db.database_url()
    with records_session(url) as session:
        try:
            users.create_user(session, clinic, username, password, role, name)
        except InvalidInputError as exc:
            fail(str(exc))
    console.print(f"user {username} ({role}) added to clinic {clinic!r}")


@users_app.command("token")
def users_token_command(
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create an API token for a user and print it (it is not stored, only its digest)."""
    from sqlalchemy import select

    from wearoff.cli.records_commands import records_session
    from wearoff.records import db
    from wearoff.records.models import User
    from wearoff.web.services import users

    url = database_url or db.database_url()
    with records_session(url) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            fail(f"no user {username!r}; add one with: wearoff users add {username} --role injector")
        issued = users.issue_token(session, user, name)
    console.print(issued.token, highlight=False, soft_wrap=True)
