"""The source tables' contract (pipeline-spec section 1), written once.

The source database, the file loader, the data generator, the emulator's payloads and the jobs
downstream all derive their columns and types from ``SOURCE_TABLES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ColumnType = Literal["int", "float", "str", "datetime"]
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType


@dataclass(frozen=True)
class SourceTable:
    name: str  # table name in the source database (and file stem for the loader)
    short: str  # pin | geo | user: the name used in topics, streams and pipeline tables
    key: str  # join key column
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


PIN = SourceTable(
    name="pinterest_data",
    short="pin",
    key="index",
    columns=(
        Column("index", "int"),
        Column("unique_id", "str"),
        Column("title", "str"),
        Column("description", "str"),
        Column("poster_name", "str"),
        Column("follower_count", "str"),
        Column("tag_list", "str"),
        Column("is_image_or_video", "str"),
        Column("image_src", "str"),
        Column("downloaded", "int"),
        Column("save_location", "str"),
        Column("category", "str"),
    ),
)
GEO = SourceTable(
    name="geolocation_data",
    short="geo",
    key="ind",
    columns=(
        Column("ind", "int"),
        Column("timestamp", "datetime"),
        Column("latitude", "float"),
        Column("longitude", "float"),
        Column("country", "str"),
    ),
)
USER = SourceTable(
    name="user_data",
    short="user",
    key="ind",
    columns=(
        Column("ind", "int"),
        Column("first_name", "str"),
        Column("last_name", "str"),
        Column("age", "int"),
        Column("date_joined", "datetime"),
    ),
)
SOURCE_TABLES: tuple[SourceTable, ...] = (PIN, GEO, USER)
BY_SHORT = {t.short: t for t in SOURCE_TABLES}


def to_wire(row: dict[str, object]) -> dict[str, object]:
    """A source row as clients send it: datetimes as ``YYYY-MM-DD HH:MM:SS``."""
    return {
        k: v.strftime(DATETIME_FORMAT) if isinstance(v, datetime) else v for k, v in row.items()
    }


def parse_datetime(text: str) -> datetime:
    """Accepts ``YYYY-MM-DD HH:MM:SS`` and the ISO ``YYYY-MM-DDTHH:MM:SS`` form."""
    return datetime.fromisoformat(text.strip())
