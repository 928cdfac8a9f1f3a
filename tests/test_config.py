import subprocess
import sys

import pytest

from shopkeeper.config import load_config, parse_config, resolve_db, write_config
from shopkeeper.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message", [
    ("[shop\nname = 1", "invalid TOML"),
    ("[shop]\nnmae = 'x'", "shop.nmae: unknown key"),
    ("[shop]\ndecimals = 'two'", "shop.decimals: expected a whole number, got a string"),
    ("[shop]\nnegative_stock = 'sometimes'", "shop.negative_stock: 'sometimes' is not one of"),
    ("[shop]\ndefault_tax_rate = 0.2", "write decimals as strings"),
    ("[shop]\ndefault_tax_rate = '120'", "shop.default_tax_rate: must be between 0 and 100"),
    ("[tills]\nx = 1", "[tills]: unknown section"),
    ("[scanner]\nlayout = 'dvorak'", "scanner.layout"),
    ("[shop]\ndefault_tax_rate = '5.5555'", "shop.default_tax_rate: 5.5555 has more than 3 decimal places"),
    ("[till]\ncash_rounding = '0.005'", "till.cash_rounding: 0.005 has more than 2 decimal places"),
    ("[shop]\ntax_rounding = 'invoice'", "tax_rounding"),
    ("[database]\nbusy_timeout_ms = 2147483648", "database.busy_timeout_ms: at most 2147483647"),
    ("[shop]\ncurrency = ' '", "shop.currency: must not be empty"),
])
def test_broken_config_names_file_key_and_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_bad_toml_names_the_line(tmp_path):
    path = write(tmp_path, '[shop]\nname = "ok"\ncurrency = \n')
    with pytest.raises(ConfigError, match="line 3"):
        load_config(path)


def test_lookup_order_flag_then_env_then_user_dir(tmp_path, monkeypatch):
    a = write(tmp_path, "[shop]\nname = 'A'")
    b = tmp_path / "b.toml"
    b.write_text("[shop]\nname = 'B'")
    monkeypatch.setenv("SHOPKEEPER_CONFIG", str(b))
    assert load_config(a).shop.name == "A"
    assert load_config().shop.name == "B"
    monkeypatch.delenv("SHOPKEEPER_CONFIG")
    assert load_config().shop.name == "My Shop"  # no file in the user dir: defaults


def test_an_explicit_config_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_db_lookup_flag_env_config(tmp_path, monkeypatch):
    path = write(tmp_path, "[database]\nurl = 'shop.db'")
    config = load_config(path)
    assert resolve_db(None, config) == str(tmp_path / "shop.db")  # relative to the config file
    monkeypatch.setenv("SHOPKEEPER_DB", "/env.db")
    assert resolve_db(None, config) == "/env.db"
    assert resolve_db("/flag.db", config) == "/flag.db"


def test_written_config_reads_back_the_same(tmp_path):
    config = parse_config({"shop": {"name": "Corner", "default_tax_rate": "5.5"}})
    path = tmp_path / "c.toml"
    write_config(path, config)
    assert load_config(path) == parse_config({"shop": {"name": "Corner", "default_tax_rate": "5.5"}}, path)
    with pytest.raises(ConfigError, match="already exists"):
        write_config(path, config)


def test_cli_reports_broken_config_with_exit_2_and_no_traceback(tmp_path):
    path = write(tmp_path, "[shop]\nprices_include_tax = 'yes'")
    proc = subprocess.run([sys.executable, "-m", "shopkeeper", "--config", str(path), "--db",
                           str(tmp_path / "s.db"), "stock"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{path}: shop.prices_include_tax: expected true or false" in proc.stderr


def test_a_password_in_a_config_others_can_read_is_refused(tmp_path):
    path = write(tmp_path, "[database]\nurl = 'postgresql://clerk:s3cret@db.local/shop'")
    path.chmod(0o644)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "database.url holds a password" in str(err.value) and "s3cret" not in str(err.value)
    path.chmod(0o600)
    assert load_config(path).database.url.endswith("/shop")


def test_an_optional_section_missing_from_a_config_built_in_code_reads_as_its_defaults():
    """The demo builds its config in code, without ``[accounts]`` or ``[reorder]``: the books export and the reorder
    service read their defaults instead of failing with KeyError."""
    from shopkeeper.accounts_settings import AccountsSection
    from shopkeeper.config import Config, ReorderSection

    config = Config()
    assert config.section("accounts") == AccountsSection()
    assert config.section("reorder") == ReorderSection()
