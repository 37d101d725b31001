"""Dashboard accounts, role grants and the audit log, in a small SQLite file next to the workspace.

SQLite, not the workspace's DuckDB: `repsight users …` must work while
`repsight serve` runs, and DuckDB lets one process write at a time. Passwords
are stored only as Argon2id hashes.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from repsight.errors import ConfigError
from repsight.web.roles import GRANTABLE_ROLES, Role, granted_roles, stored_roles

__all__ = ["GRANTABLE_ROLES", "Account", "Accounts", "new_password"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    email TEXT PRIMARY KEY,
    password_hash TEXT,
    roles TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    session_epoch INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS audit (
    at TEXT NOT NULL,
    email TEXT,
    action TEXT NOT NULL,
    target TEXT,
    address TEXT
);
"""
# A hash to verify against when the email is unknown, so that the time taken does not tell who has an account.
_HASHER = PasswordHasher()
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DUMMY_HASH = _HASHER.hash("repsight: no such account")


def new_password() -> str:
    """Return a new random password (about 96 bits), for a user to change or keep."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Account:
    """One dashboard account: an email, the roles granted to it by an admin."""

    email: str
    roles: frozenset[Role]
    disabled: bool
    epoch: int = 0
    """Sessions begun under another epoch are over (raised by signing out and by a new password)."""


class Accounts:
    """The accounts file of a workspace."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(_SCHEMA)
                columns = {row[1] for row in db.execute("PRAGMA table_info(accounts)")}
                if "session_epoch" not in columns:  # an accounts file from before sessions could be ended
                    db.execute("ALTER TABLE accounts ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0")
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{path}: cannot open the accounts file: {exc}") from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

    def add(self, email: str, password: str, roles: Collection[str] = frozenset()) -> Account:
        """Create an account with `roles` granted (names or `Role`s); an email that has one already is refused."""
        email = _canonical(email)
        if not _EMAIL.fullmatch(email):
            raise ConfigError(f"{email!r} is not an email address")
        granted = granted_roles(roles)
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO accounts (email, password_hash, roles, created_at) VALUES (?, ?, ?, ?)",
                    (email, _HASHER.hash(password), _stored(granted), _now()),
                )
        except sqlite3.IntegrityError:
            raise ConfigError(
                f"{email}: has an account already (reset its password with `repsight users reset-password`)"
            ) from None
        return Account(email, granted, False)

    def end_sessions(self, email: str) -> None:
        """End every session of the account (its cookies, wherever they were copied, stop working)."""
        with self._connect() as db:
            db.execute("UPDATE accounts SET session_epoch = session_epoch + 1 WHERE email = ?", (_canonical(email),))

    def get(self, email: str) -> Account | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT email, roles, disabled, session_epoch FROM accounts WHERE email = ?", (_canonical(email),)
            ).fetchone()
        return None if row is None else Account(row[0], stored_roles(row[1]), bool(row[2]), int(row[3]))

    def all(self) -> list[Account]:
        with self._connect() as db:
            rows = db.execute("SELECT email, roles, disabled FROM accounts ORDER BY email").fetchall()
        return [Account(e, stored_roles(roles), bool(d)) for e, roles, d in rows]

    def ensure(self, email: str) -> Account:
        """Return the account of `email`, creating one without a password (single sign-on users)."""
        found = self.get(email)
        if found is not None:
            return found
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO accounts (email, created_at) VALUES (?, ?)", (_canonical(email), _now()))
        return Account(_canonical(email), frozenset(), False)

    def verify(self, email: str, password: str) -> Account | None:
        """Return the account when `password` is right for `email`; None otherwise (unknown email included)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT password_hash FROM accounts WHERE email = ? AND disabled = 0", (_canonical(email),)
            ).fetchone()
        stored = row[0] if row and row[0] else _DUMMY_HASH
        try:
            _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return self.get(email) if row and row[0] else None

    def set_password(self, email: str, password: str) -> None:
        """Set a new password; the account's open sessions end."""
        self._update(email, "password_hash = ?, session_epoch = session_epoch + 1", _HASHER.hash(password))

    def set_roles(self, email: str, roles: Collection[str]) -> None:
        """Replace the roles granted to an account (names or `Role`s); the roster's roles stay."""
        self._update(email, "roles = ?", _stored(granted_roles(roles)))

    def _update(self, email: str, assignment: str, value: str) -> None:
        with self._connect() as db:
            changed = db.execute(f"UPDATE accounts SET {assignment} WHERE email = ?", (value, _canonical(email))).rowcount
        if not changed:
            raise ConfigError(f"{email}: no such account (create it with `repsight users add`)")

    def audit(self, email: str | None, action: str, target: str | None = None, address: str | None = None) -> None:
        """Record what someone did or tried: sign-ins, refusals, changes of roles."""
        with self._connect() as db:
            db.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?)", (_now(), email, action, target, address))

    def holds(self, email: str) -> bool:
        """Return whether the file has an account of `email` or an audit entry by or about it."""
        email = _canonical(email)
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM accounts WHERE email = ? UNION ALL SELECT 1 FROM audit WHERE email = ? OR target = ? LIMIT 1",
                (email, email, email),
            ).fetchone()
        return row is not None

    def forget(self, email: str, pseudonyms: Collection[str]) -> int:
        """Remove the account of `email` and every audit entry by or about it (by address, or a target naming one of `pseudonyms`); return the rows removed (docs/privacy.md)."""
        email = _canonical(email)
        with self._connect() as db:
            removed = db.execute("DELETE FROM accounts WHERE email = ?", (email,)).rowcount
            removed += db.execute("DELETE FROM audit WHERE email = ? OR target = ?", (email, email)).rowcount
            for person in pseudonyms:
                removed += db.execute("DELETE FROM audit WHERE instr(target, ?) > 0", (person,)).rowcount
        return int(removed)

    def audit_log(self, limit: int = 200) -> list[tuple[str, str | None, str, str | None, str | None]]:
        with self._connect() as db:
            rows = db.execute("SELECT at, email, action, target, address FROM audit ORDER BY rowid DESC LIMIT ?", (limit,))
            return [tuple(r) for r in rows.fetchall()]  # type: ignore[misc]


def _canonical(email: str) -> str:
    return email.strip().lower()


def _stored(roles: frozenset[Role]) -> str:
    # The accounts file keeps plain names: `repsight users` and older versions read the same column.
    return ",".join(sorted(role.value for role in roles))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
