"""The pipeline's data contract (``pipeline-spec.md``), written once: the source tables, the
names of topics, streams and tables, the cleaning constants, the silver, quarantine and gold
tables' columns, the age groups and the default year ranges.

Plain Python data only (no Spark, no DuckDB): the source database, the file loader, the data
generator, the emulator's payloads, the Spark jobs, the DuckDB baseline, the report and the DAGs
derive what they need from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# Logical column types: int (32-bit), long (64-bit), float (64-bit), str, datetime and float[]
# (an array of floats). Each engine maps them to its own types.
ColumnType = Literal["int", "long", "float", "str", "datetime", "float[]"]
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType


# 1. Source tables


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
TABLES: tuple[str, ...] = tuple(t.short for t in SOURCE_TABLES)  # ("pin", "geo", "user")


def to_wire(row: dict[str, object]) -> dict[str, object]:
    """A source row as clients send it: datetimes as ``YYYY-MM-DD HH:MM:SS``."""
    return {
        k: v.strftime(DATETIME_FORMAT) if isinstance(v, datetime) else v for k, v in row.items()
    }


def parse_datetime(text: str) -> datetime:
    """Accepts ``YYYY-MM-DD HH:MM:SS`` and the ISO ``YYYY-MM-DDTHH:MM:SS`` form."""
    return datetime.fromisoformat(text.strip())


# 2. Wire: where clients send each table's rows


def topic_name(uid: str, table: str) -> str:
    """The Kafka topic of a table (``<uid>.pin``)."""
    return f"{uid}.{table}"


def stream_name(uid: str, table: str) -> str:
    """The Kinesis stream of a table (``streaming-<uid>-pin``)."""
    return f"streaming-{uid}-{table}"


# 3. Landing layout: topics/<topic>/partition=<p>/<topic>+<p>+<start offset>.json, one record
# value per line.

LANDED_OBJECT_PATTERN = r"\+([0-9]+)\+([0-9]+)\.json$"  # groups: partition, start offset
# A landed record's delivery position is ``offset * POSITION_STRIDE + partition``: unique within a
# topic (of fewer partitions than the stride) and ordered by Kafka offset.
POSITION_STRIDE = 10_000


def landed_object_name(topic: str, partition: int, start_offset: int) -> str:
    return f"{topic}+{partition}+{start_offset:010d}.json"


# 4. Cleaning

# Placeholder strings exactly as the source stores them; they mean "no data".
TITLE_MISSING = "No Title Data Available"
DESCRIPTION_STORY = "No description available Story format"
DESCRIPTION_MISSING = "No description available"
DESCRIPTION_UNTITLED = "Untitled"
USER_INFO_ERROR = "User Info Error"
IMAGE_SRC_ERROR = "Image src error."
TAGS_MISSING = "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"
# The placeholders of each pin column (any pin column's "" is no data too).
PIN_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "title": (TITLE_MISSING,),
    "description": (DESCRIPTION_STORY, DESCRIPTION_MISSING, DESCRIPTION_UNTITLED),
    "poster_name": (USER_INFO_ERROR,),
    "follower_count": (USER_INFO_ERROR,),
    "image_src": (IMAGE_SRC_ERROR,),
    "tag_list": (TAGS_MISSING,),
}
# follower_count text: a number (decimals allowed) and an optional unit, k or M in either case.
FOLLOWER_PATTERN = r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmM]?)\s*$"
FOLLOWER_UNITS = {"k": 1_000, "m": 1_000_000}  # by the lower-cased unit
SAVE_LOCATION_PREFIX = "Local save in "


@dataclass(frozen=True)
class Table:
    """A table the pipeline writes: its name and its columns, in order."""

    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _table(name: str, *columns: tuple[str, ColumnType]) -> Table:
    return Table(name, tuple(Column(n, t) for n, t in columns))


# Silver tables are named by the short name of their source table.
SILVER_PIN = _table(
    PIN.short,
    ("ind", "long"),
    ("unique_id", "str"),
    ("title", "str"),
    ("description", "str"),
    ("follower_count", "long"),
    ("poster_name", "str"),
    ("tag_list", "str"),
    ("is_image_or_video", "str"),
    ("image_src", "str"),
    ("save_location", "str"),
    ("category", "str"),
)
SILVER_GEO = _table(
    GEO.short, ("ind", "long"), ("country", "str"), ("coordinates", "float[]"),
    ("timestamp", "datetime"),
)  # fmt: skip
SILVER_USER = _table(
    USER.short, ("ind", "long"), ("user_name", "str"), ("age", "int"),
    ("date_joined", "datetime"),
)  # fmt: skip
SILVER_TABLES: dict[str, Table] = {t.name: t for t in (SILVER_PIN, SILVER_GEO, SILVER_USER)}

# Records that cannot be parsed at all, with where they came from and why.
QUARANTINE = "quarantine"
QUARANTINE_TABLE = _table(
    QUARANTINE, ("source_table", "str"), ("source", "str"), ("position", "long"), ("raw", "str"),
    ("reason", "str"),
)  # fmt: skip
INVALID_JSON = "not a JSON object"
INVALID_KEY = "missing or non-integer join key"
INVALID_TIMESTAMP = "missing or unparseable timestamp"
INVALID_DATE_JOINED = "missing or unparseable date_joined"


# 5. Analytics


@dataclass(frozen=True)
class AgeBand:
    label: str
    max_age: int | None  # the oldest age in the band; None: no upper limit


AGE_BANDS: tuple[AgeBand, ...] = (
    AgeBand("<18", 17),
    AgeBand("18-24", 24),
    AgeBand("25-35", 35),
    AgeBand("36-50", 50),
    AgeBand("+50", None),
)
AGE_GROUPS: tuple[str, ...] = tuple(b.label for b in AGE_BANDS)

# Default year ranges (first and last year, both included).
POST_YEARS: tuple[int, int] = (2018, 2022)  # of geo.timestamp
JOIN_YEARS: tuple[int, int] = (2015, 2020)  # of user.date_joined
YEAR_RANGE_PATTERN = r"^\d{4}-\d{4}$"


def year_range_text(years: tuple[int, int]) -> str:
    """``(2018, 2022)`` -> ``"2018-2022"``, as configuration and job arguments write it."""
    return f"{years[0]}-{years[1]}"


def parse_year_range(text: str) -> tuple[int, int]:
    first, last = (int(y) for y in text.split("-"))
    return first, last


GOLD_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _table(
            "popular_category_by_country",
            ("country", "str"), ("category", "str"), ("category_count", "long"),
        ),
        _table(
            "popular_category_by_year",
            ("post_year", "int"), ("category", "str"), ("category_count", "long"),
        ),
        _table(
            "most_followed_by_country",
            ("country", "str"), ("poster_name", "str"), ("follower_count", "long"),
        ),
        _table("top_country_by_followers", ("country", "str"), ("follower_count", "long")),
        _table(
            "popular_category_by_age_group",
            ("age_group", "str"), ("category", "str"), ("category_count", "long"),
        ),
        _table(
            "median_followers_by_age_group",
            ("age_group", "str"), ("median_follower_count", "float"),
        ),
        _table("users_joined_by_year", ("post_year", "int"), ("number_users_joined", "long")),
        _table(
            "median_followers_by_join_year",
            ("post_year", "int"), ("median_follower_count", "float"),
        ),
        _table(
            "median_followers_by_age_group_and_join_year",
            ("age_group", "str"), ("post_year", "int"), ("median_follower_count", "float"),
        ),
    )
}  # fmt: skip


# 6. Streaming tables


def streaming_table(uid: str, table: str) -> str:
    """The streaming Delta table of a source table (``<uid>_pin_table``)."""
    return f"{uid}_{table}_table"


STREAMING_QUARANTINE = f"streaming_{QUARANTINE}"
