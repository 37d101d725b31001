from __future__ import annotations

from pathlib import Path

import pytest

from repsight.config import load_config, render_config
from repsight.errors import ConfigError
from tests.support import REPO


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "repsight.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_rendered_default_config_loads_with_the_documented_values(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, render_config(["Acme.Example"])))
    assert config.company.domains == ["acme.example"]
    assert config.company.senior_level == 7
    assert config.company.sales_functions == ["Sales"]
    assert config.company.timezone == "UTC"
    assert config.company.personal_domains == ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com"]
    assert config.sources.roster == "roster.csv"
    assert config.sources.mail == ["mail/*.mbox"]
    assert config.sources.calendar == ["calendar/*.ics"]
    assert config.privacy.min_group_size == 5
    assert config.engine.backend == "duckdb"
    assert config.database_path == tmp_path.resolve() / "repsight.duckdb"


def test_a_folder_is_read_as_its_repsight_toml(tmp_path: Path) -> None:
    write(tmp_path, render_config(["acme.example"]))
    assert load_config(tmp_path).company.domains == ["acme.example"]


def test_paths_are_relative_to_the_config_file_and_globs_expand_sorted(tmp_path: Path) -> None:
    (tmp_path / "mail").mkdir()
    for name in ("b.csv", "a.csv", "c.txt"):
        (tmp_path / "mail" / name).write_text("x")
    config = load_config(write(tmp_path, '[company]\ndomains = ["acme.example"]\n[sources]\nmail = ["mail/*.csv", "mail/a.*"]\n'))
    assert config.expand(config.sources.mail) == [tmp_path.resolve() / "mail" / "a.csv", tmp_path.resolve() / "mail" / "b.csv"]


def test_missing_config_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: no configuration file here; create one with `repsight init DIR`"):
        load_config(tmp_path / "nope.toml")


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"repsight\.toml: not valid TOML: .*\(at line 2, column 11\)"):
        load_config(write(tmp_path, '[company]\ndomains = = ["acme.example"]\n'))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[company]\ndomains = ["acme.example"]\nsenior_levle = 6\n',
            r"\[company\] senior_levle: unknown setting \(check the spelling\)",
        ),
        (
            '[company]\ndomains = ["acme.example"]\nsenior_level = "high"\n',
            r"\[company\] senior_level: Input should be a valid integer",
        ),
        (
            '[company]\ndomains = ["acme.example"]\ntimezone = "Mars/Olympus"\n',
            r"\[company\] timezone: 'Mars/Olympus' is not an IANA time zone",
        ),
        ("[company]\ndomains = []\n", r"\(top\): \[company\] domains is empty, but mail or calendar exports are configured"),
        ('[company]\ndomains = ["not a domain"]\n', r"\[company\] domains: .*'not a domain' is not a mail domain"),
        (
            '[company]\ndomains = ["acme.example"]\n[privacy]\nmin_group_size = 2\n',
            r"\[privacy\] min_group_size: Input should be greater than or equal to 3",
        ),
        (
            '[company]\ndomains = ["acme.example"]\n[engine]\nbackend = "oracle"\n',
            r"\[engine\] backend: Input should be 'duckdb' or 'pyspark'",
        ),
        (
            '[company]\ndomains = ["acme.example"]\n[metrics]\nworking_hours = "18:00-08:00"\n',
            r"\[metrics\] working_hours: '18:00-08:00' is not a working-hours range",
        ),
        (
            '[company]\ndomains = ["acme.example"]\n[metrics]\nworking_days = ["Mon", "Funday"]\n',
            r"\[metrics\] working_days: 'Funday' is not a weekday",
        ),
        (
            '[company]\ndomains = ["acme.example"]\n[metrics]\nperiod = "year"\n',
            r"\[metrics\] period: Input should be 'auto', 'quarter' or 'month'",
        ),
        ("[sources]\n", r"company: required setting is missing"),
    ],
)
def test_invalid_setting_is_named_with_its_section(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_every_setting_is_documented_in_the_readme() -> None:
    from repsight.config import Config

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for section_name, section in Config.model_fields.items():
        annotation = section.annotation
        if section_name == "path" or annotation is None or not hasattr(annotation, "model_fields"):
            continue
        for setting in annotation.model_fields:
            assert f"`{section_name}.{setting}`" in readme or f"`.{setting}`" in readme, f"{section_name}.{setting}"


def test_every_setting_has_a_docstring() -> None:
    import ast
    import inspect

    import repsight.config as module

    tree = ast.parse(inspect.getsource(module))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name.endswith("Config") and node.name != "Config":
            body = node.body
            for i, item in enumerate(body):
                if isinstance(item, ast.AnnAssign):
                    following = body[i + 1] if i + 1 < len(body) else None
                    assert isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant), (
                        f"{node.name}.{ast.unparse(item.target)} has no docstring"
                    )


def test_every_settings_docstring_is_its_field_description() -> None:
    """The report reads what a threshold means from the field's description: the docstring under the setting."""
    from repsight.config import Config, PrivacyConfig, StudyConfig

    assert StudyConfig.model_fields["heterogeneity_i2"].description == (
        "I-squared at or above this (with a significant interaction) makes a metric segment-specific."
    )
    assert PrivacyConfig.model_fields["min_group_size"].description == (
        "No aggregate over fewer people is shown to anyone but an analyst."
    )
    for section_name, section in Config.model_fields.items():
        annotation = section.annotation
        if section_name == "path" or annotation is None or not hasattr(annotation, "model_fields"):
            continue
        for setting, field in annotation.model_fields.items():
            assert field.description, f"{section_name}.{setting}"


def test_init_refuses_a_domain_that_would_break_the_config(tmp_path: Path) -> None:
    from repsight.workspace import init_workspace

    for domain in ('x".com', 'x.com","evil.org', "x y.com"):
        with pytest.raises(ConfigError, match="is not a mail domain"):
            init_workspace(tmp_path / "ws", domains=[domain])
        assert not (tmp_path / "ws" / "repsight.toml").exists()


def test_a_memory_limit_duckdb_refuses_names_the_config(tmp_path: Path) -> None:
    from repsight.errors import StoreError
    from repsight.store import Store

    path = write(tmp_path, '[company]\ndomains = ["acme.example"]\n[engine]\nmemory_limit = "99999999999999999999TB"\n')
    with pytest.raises(StoreError, match=r"repsight\.toml: \[engine\] memory_limit: "):
        Store.open(load_config(path), key="a-key-of-enough-length")


def test_metrics_settings_read_as_seconds_and_weekday_numbers(tmp_path: Path) -> None:
    text = '[company]\ndomains = ["acme.example"]\n[metrics]\nworking_hours = "07:30-16:00"\nworking_days = ["sunday", "Mon"]\n'
    rules = load_config(write(tmp_path, text)).metrics
    assert rules.working_seconds == (7 * 3600 + 1800, 16 * 3600)
    assert rules.working_days == ["Mon", "Sun"] and rules.working_weekdays == [0, 6]
