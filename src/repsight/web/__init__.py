"""The web dashboard for reps, managers, executives and analysts (`repsight serve`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from repsight.web.accounts import Account, Accounts, new_password
from repsight.web.roles import Role

if TYPE_CHECKING:
    from fastapi import FastAPI

    from repsight.config import Config

__all__ = ["CONFIG_ENV", "Account", "Accounts", "Role", "app_from_environment", "dashboard", "new_password"]

CONFIG_ENV = "REPSIGHT_CONFIG"
"""With several server processes, each builds its app from the configuration this variable names."""


def dashboard(config: Config) -> FastAPI:
    """Return the dashboard app of a workspace: its tables read into memory (and read again when they change), its accounts file opened."""
    from repsight.web.app import create_app, session_secret
    from repsight.web.live import LiveWorkspace

    workspace = LiveWorkspace.open(config)  # Store.open(config, read_only=True): the store reads the key
    assert workspace.key is not None
    return create_app(config, workspace, Accounts(config.accounts_path), session_secret(workspace.key))


def app_from_environment() -> FastAPI:
    """Return the dashboard of the workspace named by REPSIGHT_CONFIG (uvicorn's factory for several worker processes)."""
    import os

    from repsight.config import load_config

    return dashboard(load_config(os.environ[CONFIG_ENV]))
