"""Persistence of sweeps, runs and logged values.

The default store is one SQLite file, ``nbsweep.db`` in the working directory, created on
first use. Point elsewhere with the ``store=`` argument of the public functions or the
``NBSWEEP_STORE`` environment variable (a path, or ``sqlite:///path``).
"""

from __future__ import annotations

import os
import secrets
import string
import threading
from pathlib import Path

from nbsweep.store._records import (
    RUN_STATES,
    SWEEP_STATES,
    TERMINAL_STATES,
    RunRecord,
    SweepRecord,
)
from nbsweep.store._sqlite import (
    HOST,
    RunNotFoundError,
    SQLiteStore,
    StoreBusyError,
    SweepNotFoundError,
)

__all__ = [
    "DEFAULT_STORE",
    "HOST",
    "RUN_STATES",
    "STORE_ENV",
    "SWEEP_STATES",
    "TERMINAL_STATES",
    "RunNotFoundError",
    "RunRecord",
    "SQLiteStore",
    "Store",
    "StoreBusyError",
    "StoreNotFoundError",
    "SweepNotFoundError",
    "SweepRecord",
    "new_id",
    "open_store",
    "resolve_store_path",
]

Store = SQLiteStore
STORE_ENV = "NBSWEEP_STORE"
DEFAULT_STORE = "nbsweep.db"

_ALPHABET = string.ascii_lowercase + string.digits
_stores: dict[Path, SQLiteStore] = {}
_stores_lock = threading.Lock()


def new_id(length: int = 8) -> str:
    """A short random id made of lowercase letters and digits, e.g. ``k3v9x2qa``."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def resolve_store_path(store: str | os.PathLike[str] | None = None) -> Path:
    """Where the store lives: the argument, else ``$NBSWEEP_STORE``, else ``./nbsweep.db``.

    Examples
    --------
    >>> resolve_store_path("sqlite:////tmp/x.db")
    PosixPath('/tmp/x.db')
    """
    target = store if store is not None else os.environ.get(STORE_ENV) or DEFAULT_STORE
    text = os.fspath(target)
    if text.startswith(("postgresql://", "postgres://")):
        raise NotImplementedError(
            "a PostgreSQL store is not available in this version of nbsweep; use a SQLite "
            "file (agents in several processes on one machine can share it)"
        )
    if text.startswith("sqlite:///"):
        # sqlite:///relative.db and sqlite:////absolute/path.db, as SQLAlchemy reads them
        text = text[len("sqlite:///") :] or DEFAULT_STORE
    return Path(text).expanduser().resolve()


class StoreNotFoundError(FileNotFoundError):
    """A store was to be read, but there is no store file at that path."""


def open_store(
    store: str | os.PathLike[str] | SQLiteStore | None = None, *, create: bool = True
) -> SQLiteStore:
    """The process-wide store object for a path, created (with its file) on first use.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "s.db")
    >>> open_store(path) is open_store(path)
    True
    """
    if isinstance(store, SQLiteStore):
        return store
    path = resolve_store_path(store)
    if not create and not path.exists():
        raise StoreNotFoundError(
            f"no nbsweep store at {str(path)!r}; sweeps are created there with "
            "nbsweep.sweep(config, store=...) (the default store is ./nbsweep.db, or "
            "$NBSWEEP_STORE)"
        )
    with _stores_lock:
        found = _stores.get(path)
        if found is not None and not path.exists():
            # The file was deleted (a fresh start): open a new one instead of writing into
            # the unlinked file, which nothing else could ever see.
            found.close()
            found = None
        if found is None:
            found = _stores[path] = SQLiteStore(path)
        return found
