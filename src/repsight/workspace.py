"""Creating a workspace: the configuration file and the pseudonymisation key."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from repsight.config import CONFIG_FILENAME, Config, load_config, render_config
from repsight.errors import ConfigError
from repsight.privacy import KEY_ENV, write_new_key

__all__ = ["init_workspace"]


def init_workspace(
    directory: str | Path,
    *,
    domains: list[str],
    mail: list[str] | None = None,
    calendar: list[str] | None = None,
    timezone: str = "UTC",
) -> Config:
    """Create `directory/repsight.toml` and, unless REPSIGHT_KEY is set, a new key file; return the config."""
    directory = Path(directory)
    config_path = directory / CONFIG_FILENAME
    if config_path.exists():
        raise ConfigError(f"{config_path}: a workspace is already here; edit it instead of re-creating it")
    try:
        text = render_config(domains, mail=mail, calendar=calendar, timezone=timezone)
    except ValidationError as exc:
        raise ConfigError(f"{config_path}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        config_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot write the configuration: {exc.strerror}") from None
    config = load_config(config_path)
    if KEY_ENV not in os.environ and not config.key_path.exists():
        write_new_key(config.key_path)
    return config
