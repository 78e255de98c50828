"""The three source tables in any SQLAlchemy database: SQLite (default), MariaDB/MySQL,
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Double,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    event,
    func,
    inspect,
    select,
)
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.types import TypeEngine

from pinpipe.contract import SOURCE_TABLES, SourceTable
from pinpipe.errors import PinpipeError

SQL_TYPES: dict[str, TypeEngine[Any]] = {
    # In SQLite only an INTEGER primary key is the table's rowid (no separate index to maintain).
    "int": BigInteger().with_variant(Integer(), "sqlite"),
    "float": Double(),
    "str": Text(),
    "datetime": DateTime(),
}


class SourceError(PinpipeError):
    """The source database cannot be reached, created or read."""


metadata = MetaData()
TABLES: dict[str, Table] = {
    t.short: Table(
        t.name,
        metadata,
        *(
            Column(c.name, SQL_TYPES[c.type], primary_key=(c.name == t.key), autoincrement=False)
            for c in t.columns
        ),
    )
    for t in SOURCE_TABLES
}


def connect(url: str) -> Engine:
    """An engine for the URL, with SQLite tuned for bulk loading; errors say what to fix."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError) as e:
        raise SourceError(f"cannot use database URL {url!r}: {e}") from e
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    try:
        with engine.connect():
            pass
    except OperationalError as e:
        raise SourceError(f"cannot connect to {engine.url!r}: {e.orig}") from e
    return engine


def init(engine: Engine, replace: bool = False) -> None:
    """Create the three tables; with ``replace``, drop existing ones first."""
    existing = set(inspect(engine).get_table_names())
    present = [t.name for t in TABLES.values() if t.name in existing]
    if present and not replace:
        raise SourceError(
            f"tables {', '.join(present)} already exist in {engine.url!r}: "
            "use --replace to drop and re-create them"
        )
    try:
        if replace:
            metadata.drop_all(engine)
        metadata.create_all(engine)
    except SQLAlchemyError as e:
        raise SourceError(f"creating the source tables failed: {e}") from e


def ensure_tables(engine: Engine) -> None:
    missing = [t.name for t in TABLES.values() if not inspect(engine).has_table(t.name)]
    if missing:
        raise SourceError(
            f"{engine.url!r} has no table {', '.join(missing)}: run `pinpipe source init` first"
        )


def insert_rows(
    engine: Engine, table: SourceTable, rows: Iterable[dict[str, Any]], chunk: int = 5000
) -> int:
    """Insert rows in chunks inside one transaction; returns how many were inserted."""
    count = 0
    batch: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                insert_batch(conn, table, batch)
                count += len(batch)
                batch = []
        if batch:
            insert_batch(conn, table, batch)
            count += len(batch)
    return count


def insert_batch(conn: Connection, table: SourceTable, rows: list[dict[str, Any]]) -> None:
    """One executemany straight to the driver: bulk loads skip SQLAlchemy's per-value work."""
    compiled = TABLES[table.short].insert().compile(dialect=conn.dialect)
    names = list(compiled.positiontup or []) if compiled.positional else list(table.column_names)
    as_text = conn.dialect.name == "sqlite"  # SQLite stores datetimes as text
    datetimes = [i for i, n in enumerate(names) if n in _datetime_columns(table)] if as_text else []
    getter = itemgetter(*names)
    params: list[Any] = [getter(r) for r in rows]
    if datetimes:
        params = [list(p) for p in params]
        for p in params:
            for i in datetimes:
                if p[i] is not None:
                    p[i] = p[i].isoformat(" ")
        params = [tuple(p) for p in params]
    if not compiled.positional:
        params = [dict(zip(names, p, strict=True)) for p in params]
    conn.exec_driver_sql(str(compiled), params)


def _datetime_columns(table: SourceTable) -> set[str]:
    return {c.name for c in table.columns if c.type == "datetime"}


def count_rows(engine: Engine, table: SourceTable) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(TABLES[table.short])).scalar_one())


def keys(conn: Connection, table: SourceTable) -> list[int]:
    """Every join key of a table, ascending."""
    target = TABLES[table.short]
    query = select(target.c[table.key]).order_by(target.c[table.key])
    return [int(k) for k in conn.execute(query).scalars()]


def read_rows(
    conn: Connection, table: SourceTable, keys_: Sequence[int] | None = None
) -> Iterator[dict[str, Any]]:
    """Rows in key order, all of them or those with the given keys."""
    target = TABLES[table.short]
    query = select(target).order_by(target.c[table.key])
    if keys_ is not None:
        query = query.where(target.c[table.key].in_(list(keys_)))
    for row in conn.execute(query).mappings():
        yield dict(row)
