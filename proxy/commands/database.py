"""The `--db` and `--data-dir` options every store-backed subcommand takes, and opening the
store they name."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..data_dir import default_data_dir
from ..store import Store, StoreError
from ..store.engine import sqlite_url
from .common import CommandError

DB_FILE = "homeagent.db"


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        default=os.environ.get("HOMEAGENT_DB"),
        help="database URL, e.g. postgresql+psycopg://gw@db/homeagent "
        f"(default: $HOMEAGENT_DB, else DATA_DIR/{DB_FILE})",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help="the gateway's data folder (default: $HOMEAGENT_DATA_DIR or "
        "~/.local/share/homeagent-proxy)",
    )


@contextmanager
def opened_store(args: argparse.Namespace) -> Iterator[Store]:
    """The store, closed afterwards; what it refuses becomes a CommandError for the officer."""
    store = open_store(args)
    try:
        yield store
    except StoreError as err:
        raise CommandError(str(err)) from None
    finally:
        store.close()


def open_store(args: argparse.Namespace) -> Store:
    url = args.db
    if not url:
        data_dir: Path = args.data_dir or default_data_dir()
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        url = sqlite_url(data_dir / DB_FILE)
    try:
        return Store.open(url)
    except (StoreError, ValueError) as err:
        raise CommandError(f"cannot open the store: {err}") from None
    except DBAPIError as err:
        raise CommandError(f"cannot open the store at {_safe(url)}: {err.orig}") from None
    except SQLAlchemyError as err:
        raise CommandError(f"cannot open the store at {_safe(url)}: {err}") from None


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
