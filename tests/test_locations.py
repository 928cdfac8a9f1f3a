"""Database locations as shown to people: never a password."""

from shopkeeper.locations import display_location, has_password, redacted, sqlite_path


def test_a_postgresql_location_is_shown_as_database_and_host_only():
    url = "postgresql://clerk:s3cr@t@db.shop.lan:5433/corner"
    assert has_password(url)
    assert display_location(url) == "corner on db.shop.lan:5433 (PostgreSQL)"
    assert redacted(url) == "postgresql://clerk:***@db.shop.lan:5433/corner"
    assert redacted("postgresql://clerk@db/corner") == "postgresql://clerk@db/corner"


def test_sqlite_locations_name_their_file():
    assert str(sqlite_path("sqlite:////srv/shop.db")) == "/srv/shop.db"
    assert str(sqlite_path("sqlite:///shop.db")) == "shop.db"
    assert sqlite_path("postgresql://h/db") is None and sqlite_path(":memory:") is None
    assert display_location("/srv/shop.db") == "/srv/shop.db"
