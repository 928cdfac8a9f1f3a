"""PIN hashes: salted, slow, with their parameters in the stored string, compared in constant time.

``scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``: ``hashlib.scrypt`` (the standard library; no extra package), with
n=2**14, r=8 (16 MiB, some 50 ms here), so a stolen database does not give up four-digit PINs at GPU speed as a
plain hash would — though a PIN has few digits: the lockout and the file's owner-only mode are the real guard.
A hash made with other parameters still verifies: they are read back from the string.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from shopkeeper.errors import InvalidInput

N, R, P = 2**14, 8, 1
MIN_PIN, MAX_PIN = 4, 12


def check_pin(pin: str) -> str:
    """A PIN as accepted: 4 to 12 digits."""
    pin = pin.strip()
    if not pin.isdigit() or not pin.isascii() or not MIN_PIN <= len(pin) <= MAX_PIN:
        raise InvalidInput(f"a PIN is {MIN_PIN} to {MAX_PIN} digits", field="pin",
                           reason=f"{MIN_PIN} to {MAX_PIN} digits")
    return pin


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + 2**20, dklen=32)


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    return f"scrypt${N}${R}${P}${salt.hex()}${_scrypt(check_pin(pin), salt, N, R, P).hex()}"


def matches(pin: str, stored: str | None) -> bool:
    """Whether ``pin`` is the one ``stored`` was made from (False for no hash or a malformed one)."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = _scrypt(pin.strip(), bytes.fromhex(salt), int(n), int(r), int(p))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))
