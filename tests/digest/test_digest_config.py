"""The `[digest]` settings: defaults, what is refused, and that a password is only ever named, never written."""

from __future__ import annotations

from pathlib import Path

import pytest

from repsight.config import DigestConfig, load_config
from repsight.errors import ConfigError

COMPANY = '[company]\ndomains = ["acme.example"]\n'


def config_with(tmp_path: Path, digest: str) -> Path:
    path = tmp_path / "repsight.toml"
    path.write_text(COMPANY + "[digest]\n" + digest, encoding="utf-8")
    return path


def test_the_defaults_send_nothing_anywhere_by_themselves() -> None:
    digest = DigestConfig()
    assert digest.public_url == "http://localhost:8000"
    assert digest.sender is None and digest.opt_out == []
    assert (digest.smtp_host, digest.smtp_port, digest.smtp_security) == ("localhost", 587, "starttls")
    assert digest.smtp_user is None and digest.smtp_password_env is None


def test_settings_are_read_and_cleaned(tmp_path: Path) -> None:
    text = (
        'public_url = "https://repsight.acme.example/"\n'
        'sender = "digest@acme.example"\n'
        'opt_out = [" Ana.Brandt@Acme.Example "]\n'
        'smtp_host = "smtp.acme.example"\nsmtp_port = 465\nsmtp_security = "tls"\n'
        'smtp_user = "digest"\nsmtp_password_env = "REPSIGHT_SMTP_PASSWORD"\n'
    )
    digest = load_config(config_with(tmp_path, text)).digest
    assert digest.public_url == "https://repsight.acme.example"
    assert digest.opt_out == ["ana.brandt@acme.example"]
    assert (digest.smtp_host, digest.smtp_port, digest.smtp_security) == ("smtp.acme.example", 465, "tls")
    assert (digest.smtp_user, digest.smtp_password_env) == ("digest", "REPSIGHT_SMTP_PASSWORD")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            'smtp_user = "digest"\nsmtp_password_env = "hunter2!"\n',
            "[digest] smtp_password_env: must be the name of an environment variable",
        ),
        (
            'smtp_user = "digest"\n',
            "digest: smtp_user and smtp_password_env go together: set both to sign into the relay, or neither",
        ),
        ('smtp_security = "ssl"\n', "[digest] smtp_security: Input should be 'starttls', 'tls' or 'none'"),
        ('public_url = "repsight.acme.example"\n', "[digest] public_url: 'repsight.acme.example' is not a web address"),
        ('sender = "digest"\n', "[digest] sender: 'digest' is not an email address"),
        ("smtp_port = 0\n", "[digest] smtp_port: Input should be greater than or equal to 1"),
        ('smtp_password = "hunter2"\n', "[digest] smtp_password: unknown setting (check the spelling)"),
    ],
)
def test_a_wrong_setting_is_refused_by_name(tmp_path: Path, text: str, said: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(config_with(tmp_path, text))
    assert said in str(raised.value)
