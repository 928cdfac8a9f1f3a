"""The shop's configuration: read with tomllib, validated into frozen dataclasses, written with tomli-w.

Lookup order for the file: ``--config``, ``$SHOPKEEPER_CONFIG``, the user config dir. A broken file raises
``ConfigError`` with one message naming the file, the key (or line) and what is wrong.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from shopkeeper.errors import ConfigError, ShopError
from shopkeeper.money import to_decimal

APP_NAME = "shopkeeper"
CONFIG_ENV = "SHOPKEEPER_CONFIG"
DB_ENV = "SHOPKEEPER_DB"


@dataclass(frozen=True)
class ShopSection:
    name: str = "My Shop"
    currency: str = "EUR"
    decimals: int = 2
    prices_include_tax: bool = True
    default_tax_rate: Decimal = Decimal(0)
    negative_stock: Literal["allow", "warn", "refuse"] = "warn"
    tax_rounding: Literal["line", "sale"] = "line"  # tax rounded per line, or once per rate over the sale
    tax_rounding_mode: Literal["half-even", "half-up"] = "half-even"


@dataclass(frozen=True)
class DatabaseSection:
    url: str = ""
    busy_timeout_ms: int = 10_000


@dataclass(frozen=True)
class TillSection:
    terminal: str = ""
    staff: str = ""
    receipt_printer: str = ""  # a command the plain-text receipt is piped to (``[printer] kind = "command"``)
    receipt_width: int = 0  # 0: the printer's width (``[printer] width``); kept for configs that set it
    denominations: tuple[int, ...] = ()  # minor units; empty: the currency's notes and coins (denominations.py)
    cash_rounding: Decimal = Decimal(0)  # cash payments rounded to a multiple of this ("0.05", "1"); 0: none
    lock_after_minutes: int = 5  # idle minutes before the till locks (once staff have PINs); 0: never


@dataclass(frozen=True)
class ReorderSection:
    """How reorder points are learned from demand (services/demand.py, docs/ordering.md)."""

    window_weeks: int = 8
    service_level: Decimal = Decimal("0.95")
    method: Literal["auto", "normal", "intermittent"] = "auto"
    min_days: int = 14
    default_lead_days: int = 7
    default_review_days: int = 7

    def __post_init__(self) -> None:
        if not 1 <= self.window_weeks <= 104:
            raise ValueError("window_weeks: between 1 and 104")
        if not Decimal("0.5") <= self.service_level < 1:
            raise ValueError('service_level: a fraction from "0.5" up to (not including) "1", e.g. "0.95"')
        if self.min_days > 7 * self.window_weeks:
            raise ValueError("min_days: at most the window's days (7 × window_weeks)")


def _reorder_section() -> type:
    return ReorderSection


@dataclass(frozen=True)
class PrinterSection:
    """The receipt printer. ``kind``: ``escpos`` (python-escpos, over ``connection``), ``command`` (plain text piped
    to a program run without a shell) or ``none``; empty: ``command`` when ``till.receipt_printer`` is set."""

    kind: Literal["", "escpos", "command", "none"] = ""
    connection: Literal["usb", "network", "file"] = "file"
    device: str = "/dev/usb/lp0"  # connection = "file": the printer's device file
    host: str = ""  # connection = "network"
    port: int = 9100
    usb_vendor: str = ""  # connection = "usb": hex ids as lsusb shows them, e.g. "04b8"
    usb_product: str = ""
    profile: str = ""  # python-escpos printer profile, e.g. "TM-T20II"; gives the width (Font A columns)
    code_page: str = "CP858"  # the printer's code page for text: CP858 has ä, ö, ü, ß, é and €
    width: int = 0  # characters per line; 0: the profile's, else 32 (58 mm paper, Font A)
    command: str = ""  # kind = "command": e.g. "lp -d receipt" (default: till.receipt_printer)
    cut: bool = True
    drawer: bool = True  # kick the cash drawer on cash sales, cash refunds and "no sale"
    drawer_pin: Literal[2, 5] = 2
    timeout: int = 15  # seconds a printer may take


@dataclass(frozen=True)
class ReceiptSection:
    """What every receipt says besides the sale: the shop's name comes from ``[shop] name``."""

    header: tuple[str, ...] = ()  # lines under the shop's name: address, phone
    vat_number: str = ""
    footer: tuple[str, ...] = ("Thank you!",)


@dataclass(frozen=True)
class RoleSection:
    """``[roles.<name>]``: what a role may do (``services/permissions.py`` names them) and, for discounts, the
    largest percentage given without ``discount_over_limit`` ("10%"; empty: no limit)."""

    permissions: tuple[str, ...] | None = None
    max_discount: str | None = None


@dataclass(frozen=True)
class StaffSection:
    os_users: Any = field(default_factory=dict)  # {"root" = "Owner"}: who the CLI acts as for that OS user
    counter: str = ""  # the staff member the headless counter acts as (default: [till] staff)
    max_pin_failures: int = 5  # wrong PINs in a row before a lockout
    lockout_minutes: int = 5

    def __post_init__(self) -> None:
        if not isinstance(self.os_users, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.os_users.items()):
            raise ValueError('os_users: expected a table of OS user = "staff name"')
        if self.max_pin_failures < 1:
            raise ValueError("max_pin_failures: at least 1")


@dataclass(frozen=True)
class FilesSection:
    group: str = ""  # a group that may read and write the shop's files too (several OS users); empty: owner only


def _scanner_section() -> type:
    try:
        from shopkeeper.scanner.settings import ScannerSettings
    except ImportError:  # pragma: no cover - the scanner package ships with shopkeeper
        return None
    return ScannerSettings


def _accounts_section() -> type:
    from shopkeeper.accounts_settings import AccountsSection

    return AccountsSection


def _barcode_section() -> type:
    try:
        from shopkeeper.barcode_settings import BarcodeSettings
    except ImportError:  # pragma: no cover
        return None
    return BarcodeSettings


@dataclass(frozen=True)
class Config:
    shop: ShopSection = field(default_factory=ShopSection)
    database: DatabaseSection = field(default_factory=DatabaseSection)
    till: TillSection = field(default_factory=TillSection)
    printer: PrinterSection = field(default_factory=PrinterSection)
    receipt: ReceiptSection = field(default_factory=ReceiptSection)
    staff: StaffSection = field(default_factory=StaffSection)
    files: FilesSection = field(default_factory=FilesSection)
    roles: dict[str, RoleSection] = field(default_factory=dict, compare=False)
    """``[roles.<name>]`` as written; ``services.permissions`` merges them over its default roles."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Sections owned by optional packages (``scanner``, ``barcodes``), validated by their own dataclasses."""
    path: Path | None = field(default=None, compare=False)

    def section(self, name: str) -> Any:
        """An optional section (``OPTIONAL_SECTIONS``) as configured, or its defaults when the config has none (a
        config built in code, the demo's)."""
        if name not in self.extra:
            cls = OPTIONAL_SECTIONS[name]()
            return None if cls is None else cls()
        return self.extra[name]


OPTIONAL_SECTIONS = {"scanner": _scanner_section, "barcodes": _barcode_section, "accounts": _accounts_section,
                     "reorder": _reorder_section}


MAX_CONFIG_INT = 2**31 - 1
"""The largest whole number a config key takes: SQLite keeps its busy timeout in a C int, and a larger value
silently became 0 (no waiting at all)."""


def _validate_value(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise ValueError(f"{where}: {value!r} is not one of {', '.join(map(repr, choices))}")
        return value
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in typing.get_args(hint):
            if option is type(None):
                if value is None:
                    return None
                continue
            try:
                return _validate_value(value, option, where)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(errors[0] if errors else f"{where}: unexpected value {value!r}")
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {_toml_type(value)}")
        return tuple(_validate_value(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {_toml_type(value)}")
        return tuple(_validate_value(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(hint):
        return build_section(hint, value, where)
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false, got {_toml_type(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}: expected a whole number, got {_toml_type(value)}")
        if value < 0:
            raise ValueError(f"{where}: must not be negative")
        if value > MAX_CONFIG_INT:  # C ints downstream (SQLite's busy timeout) wrap round to nonsense
            raise ValueError(f"{where}: at most {MAX_CONFIG_INT}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{where}: expected a string, got {_toml_type(value)}")
        return value
    if hint is Decimal:
        if isinstance(value, float):
            raise ValueError(f'{where}: write decimals as strings, e.g. "{value}", so they stay exact')
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(f"{where}: expected a number as a string, got {_toml_type(value)}")
        try:
            return to_decimal(value, what=where, decimal_comma=False)
        except ShopError as exc:
            raise ValueError(str(exc)) from None
    raise TypeError(f"unsupported config type {hint!r} at {where}")  # a bug in a section class


def _toml_type(value: Any) -> str:
    return {bool: "a boolean", int: "a whole number", float: "a float", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def build_section(cls: type, data: Any, where: str) -> Any:
    """Validate one TOML table into dataclass ``cls``; unknown keys are errors."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a table, got {_toml_type(data)}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown key (known keys: {', '.join(sorted(known))})")
    values = {name: _validate_value(value, hints[name], f"{where}.{name}") for name, value in data.items()}
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:  # a section's own __post_init__ check
        raise ValueError(f"{where}: {exc}") from None


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    """Validate a parsed TOML document. Raises ConfigError naming the file and key."""
    label = str(path) if path else "config"
    core = {"shop": ShopSection, "database": DatabaseSection, "till": TillSection, "printer": PrinterSection,
            "receipt": ReceiptSection, "staff": StaffSection, "files": FilesSection}
    try:
        unknown = sorted(set(data) - set(core) - set(OPTIONAL_SECTIONS) - {"roles"})
        if unknown:
            known = ", ".join(sorted([*core, *OPTIONAL_SECTIONS, "roles"]))
            raise ValueError(f"[{unknown[0]}]: unknown section (known sections: {known})")
        sections = {name: build_section(cls, data.get(name, {}), name) for name, cls in core.items()}
        extra = {}
        for name, loader in OPTIONAL_SECTIONS.items():
            cls = loader()
            if cls is not None:
                extra[name] = build_section(cls, data.get(name, {}), name)
        _check_ranges(sections["shop"])
        _check_cash_rounding(sections["till"], sections["shop"])
        roles = _roles(data.get("roles", {}))
    except ValueError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    return Config(**sections, roles=roles, extra=extra, path=path)


def _roles(data: Any) -> dict[str, RoleSection]:
    if not isinstance(data, dict):
        raise ValueError(f"roles: expected tables [roles.<name>], got {_toml_type(data)}")
    return {name: build_section(RoleSection, table, f"roles.{name}") for name, table in data.items()}


def _check_ranges(shop: ShopSection) -> None:
    """Every value a till will use, checked now, so a bad one is named here and not at the first sale."""
    from shopkeeper.money import parse_rate

    if shop.decimals > 4:
        raise ValueError("shop.decimals: at most 4 decimal places are supported")
    if not shop.currency.strip():
        raise ValueError("shop.currency: must not be empty")
    if not 0 <= shop.default_tax_rate <= 100:
        raise ValueError("shop.default_tax_rate: must be between 0 and 100")
    try:
        parse_rate(shop.default_tax_rate, what="shop.default_tax_rate")
    except ShopError as exc:
        raise ValueError(str(exc)) from None


def _check_cash_rounding(till: TillSection, shop: ShopSection) -> None:
    from shopkeeper.money import parse_money

    try:
        step = parse_money(till.cash_rounding, shop.decimals, what="till.cash_rounding")
    except ShopError as exc:
        raise ValueError(str(exc)) from None
    if step < 0:
        raise ValueError("till.cash_rounding: must not be negative")


def config_label(config: Config) -> str:
    """How messages name the config: its file, or the defaults when there is none."""
    return f"config {config.path}" if config.path else "the default config (no config file)"


def default_config_path() -> Path:
    import platformdirs  # only when no --config/--db says where: keeps the app's start-up lean

    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def find_config_path(explicit: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """The config file to use, and whether it was asked for explicitly (then it must exist)."""
    if explicit:
        return Path(explicit), True
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]), True
    return default_config_path(), False


def load_config(explicit: str | os.PathLike | None = None) -> Config:
    path, required = find_config_path(explicit)
    if not path.exists():
        if required:
            raise ConfigError(f"{path}: config file not found")
        return Config()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    config = parse_config(data, path)
    _refuse_readable_password(path, config)
    return config


def _refuse_readable_password(path: Path, config: Config) -> None:
    """A PostgreSQL password may sit in a config only its owner can read; otherwise use ``~/.pgpass``."""
    from shopkeeper.locations import has_password

    if not has_password(config.database.url):
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        raise ConfigError(f"{path}: database.url holds a password but the file can be read by others; run "
                          f"`chmod 600 {path}`, or move the password to ~/.pgpass (or $PGPASSFILE)",
                          field="database.url", reason="password in a file others can read")


def resolve_db(explicit: str | None, config: Config) -> str:
    """Database location: ``--db``, ``$SHOPKEEPER_DB``, the config, then the user data dir."""
    if explicit:
        return explicit
    if os.environ.get(DB_ENV):
        return os.environ[DB_ENV]
    if config.database.url:
        url = config.database.url
        if config.path and "://" not in url and not Path(url).is_absolute():
            return str((config.path.parent / url).resolve())
        return url
    return str(default_data_dir() / "shop.db")


def config_to_toml(config: Config) -> dict[str, Any]:
    """The config as a TOML-ready dict (Decimals as strings, tuples as lists)."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    doc = {name: plain(getattr(config, name)) for name in ("shop", "database", "till", "printer", "receipt", "staff", "files")}
    if config.roles:
        doc["roles"] = {name: {k: v for k, v in plain(role).items() if v is not None}
                        for name, role in config.roles.items()}
    for name, section in config.extra.items():
        doc[name] = plain(section)
    return doc


def write_config(path: Path, config: Config, *, force: bool = False) -> None:
    import tomli_w

    if path.exists() and not force:
        raise ConfigError(f"{path}: already exists (use --force to overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    from shopkeeper.locations import has_password

    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    # The owner's alone from its first byte (a password in the URL: see _refuse_readable_password), or the owner's
    # and the configured group's (shopkeeper/files.py).
    mode = 0o600 if has_password(config.database.url) or not config.files.group else 0o660
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(tomli_w.dumps(config_to_toml(config)))
    tmp.replace(path)
