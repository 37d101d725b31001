"""The dashboard commands: `serve`, and `users …` for its accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from repsight import terminal
from repsight.cli.console import err, show
from repsight.cli.options import ConfigOption, RoleOption
from repsight.config import CONFIG_FILENAME, Config, load_config

__all__ = ["serve", "serve_dashboard", "users_add", "users_list", "users_reset_password", "users_set_role"]


def serve(
    config: ConfigOption = Path(CONFIG_FILENAME),
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: [web] host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: [web] port).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes; each holds the workspace in memory (one per core).")] = 1,
) -> None:
    """Serve the dashboard: reps, managers, executives, analysts and admins each see what their role allows."""
    cfg = load_config(config)
    serve_dashboard(cfg, host or cfg.web.host, port or cfg.web.port, workers)


def serve_dashboard(cfg: Config, host: str, port: int, workers: int = 1) -> None:
    """Serve the dashboard of `cfg` until Ctrl-C; the workspace is checked first, so that its errors are one line."""
    import os

    import uvicorn

    from repsight.web import CONFIG_ENV, dashboard

    if workers > 1:
        # Worker processes build their own app: check the workspace here first, so that errors are one line.
        with err.status("Checking the workspace…"):
            dashboard(cfg)
        os.environ[CONFIG_ENV] = str(cfg.path)
        show(Text(f"Serving the dashboard on http://{host}:{port}/ with {workers} processes (Ctrl-C stops it)"), soft_wrap=True)
        uvicorn.run(
            "repsight.web:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            proxy_headers=False,
        )
        return
    with err.status("Loading the workspace…"):
        application = dashboard(cfg)
    show(Text(f"Serving the dashboard on http://{host}:{port}/ (Ctrl-C stops it)"), soft_wrap=True)
    # No proxy-header rewriting: the single sign-on check must see the real peer address, not X-Forwarded-For.
    uvicorn.run(application, host=host, port=port, log_level="warning", proxy_headers=False)


def users_add(
    email: Annotated[str, typer.Argument(help="The user's email (their roster email, to see their own page).")],
    config: ConfigOption = Path(CONFIG_FILENAME),
    role: RoleOption = None,
) -> None:
    """Create an account with a new password, printed once."""
    from repsight.web import Accounts, new_password

    cfg = load_config(config)
    password = new_password()
    account = Accounts(cfg.accounts_path).add(email, password, frozenset(role or []))
    roles = ", ".join(sorted(account.roles)) or "none granted (the roster's apply)"
    show(Text.assemble(f"Created {account.email} (roles: {roles}); password, shown once: ", (password, "bold")), soft_wrap=True)


def users_set_role(
    email: Annotated[str, typer.Argument(help="The account's email.")],
    config: ConfigOption = Path(CONFIG_FILENAME),
    role: RoleOption = None,
) -> None:
    """Replace the roles granted to an account (none given: remove every grant; the roster's roles stay)."""
    from repsight.web import Accounts

    cfg = load_config(config)
    accounts = Accounts(cfg.accounts_path)
    accounts.set_roles(email, frozenset(role or []))
    accounts.audit(None, f"set roles (command line): {', '.join(sorted(role or [])) or 'none'}", email.strip().lower())
    show(Text(f"{email.strip().lower()}: granted roles now {', '.join(sorted(role or [])) or 'none'}"))


def users_reset_password(
    email: Annotated[str, typer.Argument(help="The account's email.")],
    config: ConfigOption = Path(CONFIG_FILENAME),
) -> None:
    """Give an account a new password, printed once."""
    from repsight.web import Accounts, new_password

    cfg = load_config(config)
    password = new_password()
    Accounts(cfg.accounts_path).set_password(email, password)
    show(Text.assemble(f"{email.strip().lower()}: new password, shown once: ", (password, "bold")), soft_wrap=True)


def users_list(config: ConfigOption = Path(CONFIG_FILENAME)) -> None:
    """List the accounts and their granted roles."""
    from repsight.web import Accounts

    cfg = load_config(config)
    table = terminal.table()
    terminal.path(table, "email")
    terminal.words(table, "granted roles")
    for account in Accounts(cfg.accounts_path).all():
        table.add_row(terminal.file_name(account.email), terminal.data(", ".join(sorted(account.roles))))
    show(table)
