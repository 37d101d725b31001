"""The web dashboard for reps, managers, executives and analysts (`repsight serve`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from repsight.web.accounts import Account, Accounts, new_password

if TYPE_CHECKING:
    from fastapi import FastAPI

    from repsight.config import Config

__all__ = ["CONFIG_ENV", "Account", "Accounts", "app_from_environment", "dashboard", "new_password"]

CONFIG_ENV = "REPSIGHT_CONFIG"
"""With several server processes, each builds its app from the configuration this variable names."""


def dashboard(config: Config) -> FastAPI:
    """Return the dashboard app of a workspace: its tables read into memory, its accounts file opened."""
    from repsight.privacy import read_key
    from repsight.store import Store
    from repsight.web.app import create_app, session_secret
    from repsight.web.data import load_data

    key = read_key(config.key_path)
    with Store.open(config, read_only=True, key=key) as store:
        data = load_data(store, config)
    return create_app(config, data, Accounts(config.accounts_path), session_secret(key))


def app_from_environment() -> FastAPI:
    """Return the dashboard of the workspace named by REPSIGHT_CONFIG (uvicorn's factory for several worker processes)."""
    import os

    from repsight.config import load_config

    return dashboard(load_config(os.environ[CONFIG_ENV]))
