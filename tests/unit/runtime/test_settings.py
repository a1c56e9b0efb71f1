from __future__ import annotations

from pathlib import Path

import pytest

from omp.core.errors import ConfigError
from omp.core.time import US_PER_DAY, US_PER_SECOND
from omp.historian.types import FOREVER
from omp.runtime.settings import HistorianKind, Settings, load_settings, redact_url


def test_defaults_are_embedded_duckdb_on_loopback() -> None:
    settings = load_settings(env={})
    assert settings.historian_kind is HistorianKind.DUCKDB
    assert settings.duckdb_path == Path("omp-data/historian.duckdb")
    assert settings.api_host == "127.0.0.1"
    assert settings.flush_interval == US_PER_SECOND


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "omp.toml"
    config.write_text(
        'data_dir = "/srv/a"\nflush_interval = "250ms"\napi_port = 9000\nqueue_size = 5\n'
    )
    env = {"OMP_DATA_DIR": "/srv/b", "OMP_API_PORT": "9100"}
    settings = load_settings(config_file=config, env=env, overrides={"api_port": 9200})
    assert settings.data_dir == Path("/srv/b")  # env beats file
    assert settings.api_port == 9200  # flag beats env
    assert settings.flush_interval == 250_000  # file beats default
    assert settings.queue_size == 5


def test_flags_left_out_do_not_override(tmp_path: Path) -> None:
    settings = load_settings(env={"OMP_API_PORT": "9100"}, overrides={"api_port": None})
    assert settings.api_port == 9100


def test_omp_config_env_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text("api_port = 9300\n")
    assert load_settings(env={"OMP_CONFIG": str(config)}).api_port == 9300


def test_postgres_url_selects_postgres_and_is_redacted_in_messages() -> None:
    url = "postgresql://omp:secret@db.example:5432/omp"
    settings = load_settings(env={"OMP_HISTORIAN_URL": url})
    assert settings.historian_kind is HistorianKind.POSTGRES
    assert "secret" not in settings.historian_target
    assert settings.historian_target == "postgresql://omp:***@db.example:5432/omp (schema omp)"


def test_duckdb_url_names_another_file() -> None:
    settings = Settings(historian_url="duckdb:///var/lib/omp/h.duckdb")
    assert settings.historian_kind is HistorianKind.DUCKDB
    assert settings.duckdb_path == Path("/var/lib/omp/h.duckdb")


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u@h/db"])
def test_both_postgres_schemes_are_accepted(url: str) -> None:
    assert Settings(historian_url=url).historian_kind is HistorianKind.POSTGRES


def test_unknown_scheme_is_an_error_naming_the_url() -> None:
    with pytest.raises(ConfigError, match="mysql://x"):
        load_settings(env={"OMP_HISTORIAN_URL": "mysql://x"})


def test_api_must_stay_on_loopback() -> None:
    with pytest.raises(ConfigError, match=r"api_host.*0\.0\.0\.0.*loopback"):
        load_settings(env={}, overrides={"api_host": "0.0.0.0"})
    assert load_settings(env={}, overrides={"api_host": "::1"}).api_host == "::1"


def test_bad_file_value_names_file_and_setting(tmp_path: Path) -> None:
    config = tmp_path / "omp.toml"
    config.write_text('flush_interval = "soon"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(config_file=config, env={})
    assert str(config) in str(info.value)
    assert "flush_interval" in str(info.value)


def test_unknown_setting_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "omp.toml"
    config.write_text("flush_intervall = 3\n")
    with pytest.raises(ConfigError, match="flush_intervall"):
        load_settings(config_file=config, env={})


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "omp.toml"
    config.write_text("data_dir = \n")
    with pytest.raises(ConfigError, match=r"omp\.toml: not valid TOML"):
        load_settings(config_file=config, env={})


def test_missing_config_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml"):
        load_settings(config_file=tmp_path / "nope.toml", env={})


def test_retention_rules_become_a_policy(tmp_path: Path) -> None:
    config = tmp_path / "omp.toml"
    config.write_text(
        '[retention.default]\nraw = "90d"\n'
        '[retention.kind.measurement]\nraw = "30d"\nminute = "365d"\n'
        '[retention.signal."a/b/c"]\nraw = "7d"\n'
    )
    policy = load_settings(config_file=config, env={}).retention.to_policy()
    assert policy.rule_for("x/y", "counter").raw == 90 * US_PER_DAY
    assert policy.rule_for("x/y", "measurement").minute == 365 * US_PER_DAY
    assert policy.rule_for("a/b/c", "measurement").raw == 7 * US_PER_DAY
    assert policy.rule_for("a/b/c", "measurement").hour is None
    # tier by tier: the signal's raw rule keeps its kind's minute rule
    assert policy.rule_for("a/b/c", "measurement").minute == 365 * US_PER_DAY


def test_retention_forever_and_rollups_shorter_than_raw(tmp_path: Path) -> None:
    config = tmp_path / "omp.toml"
    config.write_text('[retention.default]\nraw = "30d"\n[retention.kind.state]\nraw = "forever"\n')
    policy = load_settings(config_file=config, env={}).retention.to_policy()
    assert policy.rule_for("x", "state").raw == FOREVER
    config.write_text('[retention.default]\nraw = "30d"\nminute = "7d"\n')
    with pytest.raises(ConfigError, match=r"retention\.default.*1m tier must be kept at least"):
        load_settings(config_file=config, env={})


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.api_port = 1  # type: ignore[misc]  # the point of the test


def test_redact_url_leaves_passwordless_urls_alone() -> None:
    assert redact_url("postgresql://postgres@127.0.0.1:5432/test") == (
        "postgresql://postgres@127.0.0.1:5432/test"
    )


def test_a_bad_environment_variable_is_named_not_the_file(tmp_path: Path) -> None:
    config = tmp_path / "omp.toml"
    config.write_text('data_dir = "/srv/omp"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(config_file=config, env={"OMP_API_PORT": "abc"})
    message = str(info.value)
    assert message.startswith("environment variable OMP_API_PORT: api_port:")
    assert str(config) not in message


def test_a_bad_flag_is_named_not_the_file(tmp_path: Path) -> None:
    config = tmp_path / "omp.toml"
    config.write_text("api_port = 8000\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config_file=config, env={}, overrides={"api_port": 70000})
    message = str(info.value)
    assert message.startswith("command-line option --api-port: api_port:")
    assert str(config) not in message


def test_each_problem_names_its_own_source(tmp_path: Path) -> None:
    config = tmp_path / "omp.toml"
    config.write_text("api_prot = 1\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config_file=config, env={"OMP_QUEUE_SIZE": "-1"})
    problems = str(info.value).split("; ")
    assert sorted(problems) == sorted(
        [
            f"{config}: api_prot: Extra inputs are not permitted",
            "environment variable OMP_QUEUE_SIZE: queue_size: Input should be greater than 0",
        ]
    )
