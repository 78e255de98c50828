"""The baseline: pipeline-spec sections 4-5 in DuckDB (one process, SQL), from the same landed
files as the Spark job. It writes the same tables: the silver tables (one row per key, the latest
delivery winning), the quarantine (with the Spark job's reasons and record positions) and the gold
tables, with the contract's columns and types."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pinpipe.config import Settings
from pinpipe.contract import (
    AGE_BANDS,
    FOLLOWER_PATTERN,
    FOLLOWER_UNITS,
    GEO,
    GOLD_TABLES,
    INVALID_DATE_JOINED,
    INVALID_JSON,
    INVALID_KEY,
    INVALID_TIMESTAMP,
    JOIN_YEARS,
    LANDED_OBJECT_PATTERN,
    PIN,
    PIN_PLACEHOLDERS,
    POSITION_STRIDE,
    POST_YEARS,
    QUARANTINE,
    QUARANTINE_TABLE,
    SAVE_LOCATION_PREFIX,
    SILVER_TABLES,
    SOURCE_TABLES,
    USER,
    ColumnType,
    SourceTable,
    Table,
)

DUCKDB_TYPES: dict[ColumnType, str] = {
    "int": "INTEGER",
    "long": "BIGINT",
    "float": "DOUBLE",
    "str": "VARCHAR",
    "datetime": "TIMESTAMP",
    "float[]": "DOUBLE[]",
}
INTEGER_TEXT = r"^\s*[+-]?[0-9]+\s*$"


def q(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A string literal."""
    return "'" + text.replace("'", "''") + "'"


def typed(table: Table, query: str) -> str:
    """The query's rows with the table's columns, in order, cast to the contract's types."""
    columns = ", ".join(
        f"CAST({q(c.name)} AS {DUCKDB_TYPES[c.type]}) AS {q(c.name)}" for c in table.columns
    )
    return f"SELECT {columns} FROM ({query})"


def as_integer(text: str, sql_type: str = "BIGINT") -> str:
    """Whole numbers only, as the Spark job's ``try_cast``: ``7.0`` and ``1e3`` are not."""
    return f"TRY_CAST(CASE WHEN regexp_matches({text}, {lit(INTEGER_TEXT)}) THEN {text} END AS {sql_type})"


def as_timestamp(text: str) -> str:
    """Text with an offset or zone is converted to UTC, as Spark does in a UTC session."""
    return f"CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS TIMESTAMP)"


def landed(table: SourceTable, topic_glob: str) -> str:
    """Every landed record of a table: ``source`` (object:line), ``position``, ``raw``."""
    return f"""
      SELECT 'file://' || filename || ':' || line_no AS source,
        (TRY_CAST(regexp_extract(filename, {lit(LANDED_OBJECT_PATTERN)}, 2) AS BIGINT) + line_no - 1)
          * {POSITION_STRIDE}
          + TRY_CAST(regexp_extract(filename, {lit(LANDED_OBJECT_PATTERN)}, 1) AS BIGINT) AS position,
        raw
      FROM (
        SELECT filename, unnest(string_split(content, chr(10))) AS raw,
          generate_subscripts(string_split(content, chr(10)), 1) AS line_no
        FROM read_text({lit(topic_glob)}))
      WHERE raw <> ''"""


IS_OBJECT = r"(regexp_matches(raw, '^\s*\{') AND json_valid(raw))"  # a JSON object


def fields(table: SourceTable) -> str:
    """The JSON objects among the landed records, one text column per source column."""
    paths = ", ".join(lit(f'$."{c}"') for c in table.column_names)
    columns = ", ".join(f"v[{i}] AS {q(c)}" for i, c in enumerate(table.column_names, 1))
    return f"""
      SELECT source, position, raw, {columns} FROM (
        SELECT source, position, raw, json_extract_string(raw, [{paths}]) AS v
        FROM landed_{table.short} WHERE {IS_OBJECT})"""


def rejected(table: SourceTable) -> str:
    """Records that are not JSON objects, or have no integer join key."""
    key = as_integer(q(table.key))
    return f"""
      SELECT {lit(table.short)} AS source_table, source, position, raw, {lit(INVALID_JSON)} AS reason
      FROM landed_{table.short} WHERE NOT {IS_OBJECT}
      UNION ALL
      SELECT {lit(table.short)}, source, position, raw, {lit(INVALID_KEY)}
      FROM fields_{table.short} WHERE {key} IS NULL"""


def _no_data(column: str) -> str:
    values = ("", *PIN_PLACEHOLDERS.get(column, ()))
    return f"CASE WHEN {q(column)} IN ({', '.join(lit(v) for v in values)}) THEN NULL ELSE {q(column)} END"


def _follower_count() -> str:
    text = _no_data("follower_count")
    number = f"regexp_extract({text}, {lit(FOLLOWER_PATTERN)}, 1)"
    unit = f"lower(regexp_extract({text}, {lit(FOLLOWER_PATTERN)}, 2))"
    multiplier = " ".join(f"WHEN {lit(u)} THEN {n}" for u, n in FOLLOWER_UNITS.items())
    value = f"trunc(TRY_CAST({number} AS DECIMAL(20,3)) * CASE {unit} {multiplier} ELSE 1 END)"
    return f"CASE WHEN {number} <> '' THEN TRY_CAST({value} AS BIGINT) END"


def cleaned_pin() -> str:
    text = {c: _no_data(c) for c in PIN.column_names}
    location = f"regexp_replace({text['save_location']}, {lit('^' + SAVE_LOCATION_PREFIX)}, '')"
    exprs = {
        "ind": as_integer(text["index"]),
        "follower_count": _follower_count(),
        "save_location": location,
    }
    columns = ", ".join(
        f"{exprs.get(c, text.get(c))} AS {q(c)}" for c in SILVER_TABLES[PIN.short].column_names
    )
    return f"SELECT source, position, raw, {columns} FROM fields_pin WHERE {as_integer(q(PIN.key))} IS NOT NULL"


def typed_geo() -> str:
    coordinates = "[TRY_CAST(latitude AS DOUBLE), TRY_CAST(longitude AS DOUBLE)]"
    return f"""
      SELECT source, position, raw, {as_integer("ind")} AS ind, country,
        {coordinates} AS coordinates, {as_timestamp('"timestamp"')} AS "timestamp"
      FROM fields_geo WHERE {as_integer(q(GEO.key))} IS NOT NULL"""


def typed_user() -> str:
    return f"""
      SELECT source, position, raw, {as_integer("ind")} AS ind,
        first_name || ' ' || last_name AS user_name, {as_integer("age", "INTEGER")} AS age,
        {as_timestamp("date_joined")} AS date_joined
      FROM fields_user WHERE {as_integer(q(USER.key))} IS NOT NULL"""


def latest_per_key(table: str, query: str) -> str:
    """One row per ``ind``: the latest delivery (highest position) wins."""
    latest = f"SELECT * FROM ({query}) QUALIFY row_number() OVER (PARTITION BY ind ORDER BY position DESC) = 1"
    return typed(SILVER_TABLES[table], latest)


def clean(con: duckdb.DuckDBPyConnection, root: Path, topics: dict[str, str]) -> None:
    """The silver tables and the quarantine."""
    for table in SOURCE_TABLES:
        glob = str(root / "topics" / topics[table.short] / "**" / "*.json")
        con.execute(f"CREATE OR REPLACE TEMP TABLE landed_{table.short} AS {landed(table, glob)}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE fields_{table.short} AS {fields(table)}")
    quarantine = [rejected(t) for t in SOURCE_TABLES]
    con.execute(f"CREATE OR REPLACE TEMP TABLE typed_geo AS {typed_geo()}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE typed_user AS {typed_user()}")
    quarantine.append(
        f"SELECT 'geo', source, position, raw, {lit(INVALID_TIMESTAMP)} FROM typed_geo "
        'WHERE "timestamp" IS NULL'
    )
    quarantine.append(
        f"SELECT 'user', source, position, raw, {lit(INVALID_DATE_JOINED)} FROM typed_user "
        "WHERE date_joined IS NULL"
    )
    silver = {
        "pin": cleaned_pin(),
        "geo": 'SELECT * FROM typed_geo WHERE "timestamp" IS NOT NULL',
        "user": "SELECT * FROM typed_user WHERE date_joined IS NOT NULL",
    }
    for name, query in silver.items():
        con.execute(f"CREATE OR REPLACE TABLE {q(name)} AS {latest_per_key(name, query)}")
    union = " UNION ALL ".join(f"({part})" for part in quarantine)
    con.execute(f"CREATE OR REPLACE TABLE {QUARANTINE} AS {typed(QUARANTINE_TABLE, union)}")


AGE_GROUP = (
    "CASE "
    + " ".join(f"WHEN age <= {b.max_age} THEN {lit(b.label)}" for b in AGE_BANDS[:-1])
    + f" ELSE {lit(AGE_BANDS[-1].label)} END"
)


def _most_popular(group: str, alias: str, source: str, where: str) -> str:
    """Rows with the top count per group, ties kept."""
    return f"""
      SELECT g AS {alias}, category, n AS category_count FROM (
        SELECT g, category, n, max(n) OVER (PARTITION BY g) AS m FROM (
          SELECT {group} AS g, category, count(*) AS n FROM {source} WHERE {where} GROUP BY 1, 2))
      WHERE n = m"""


def gold_queries(posts: tuple[int, int], joins: tuple[int, int]) -> dict[str, str]:
    with_geo = "pin JOIN geo USING (ind)"
    with_age = f'(SELECT *, {AGE_GROUP} AS age_group FROM pin JOIN "user" USING (ind) WHERE age IS NOT NULL)'
    by_join_year = (
        f"(SELECT *, year(date_joined) AS post_year FROM {with_age} "
        f"WHERE year(date_joined) BETWEEN {joins[0]} AND {joins[1]} AND follower_count IS NOT NULL)"
    )
    return {
        "popular_category_by_country": _most_popular(
            "country", "country", with_geo, "category IS NOT NULL AND country IS NOT NULL"
        ),
        "popular_category_by_year": _most_popular(
            'year("timestamp")',
            "post_year",
            with_geo,
            f'year("timestamp") BETWEEN {posts[0]} AND {posts[1]} AND category IS NOT NULL',
        ),
        "most_followed_by_country": """
          SELECT country, poster_name, follower_count FROM (
            SELECT *, max(follower_count) OVER (PARTITION BY country) AS m FROM (
              SELECT DISTINCT country, poster_name, follower_count FROM pin JOIN geo USING (ind)
              WHERE follower_count IS NOT NULL AND country IS NOT NULL))
          WHERE follower_count = m""",
        "top_country_by_followers": """
          SELECT country, follower_count FROM (
            SELECT *, max(follower_count) OVER () AS m FROM (
              SELECT DISTINCT country, follower_count FROM most_followed_by_country))
          WHERE follower_count = m""",
        "popular_category_by_age_group": _most_popular(
            "age_group", "age_group", with_age, "category IS NOT NULL"
        ),
        "median_followers_by_age_group": f"""
          SELECT age_group, median(follower_count) AS median_follower_count
          FROM {with_age} WHERE follower_count IS NOT NULL GROUP BY 1""",
        "users_joined_by_year": f"""
          SELECT year(date_joined) AS post_year, count(*) AS number_users_joined
          FROM (SELECT DISTINCT user_name, age, date_joined FROM "user")
          WHERE year(date_joined) BETWEEN {joins[0]} AND {joins[1]} GROUP BY 1""",
        "median_followers_by_join_year": f"""
          SELECT post_year, median(follower_count) AS median_follower_count
          FROM {by_join_year} GROUP BY 1""",
        "median_followers_by_age_group_and_join_year": f"""
          SELECT age_group, post_year, median(follower_count) AS median_follower_count
          FROM {by_join_year} GROUP BY 1, 2""",
    }


def build(
    s: Settings,
    root: Path,
    posts: tuple[int, int] = POST_YEARS,
    joins: tuple[int, int] = JOIN_YEARS,
) -> duckdb.DuckDBPyConnection:
    """A new in-memory database with the silver tables, the quarantine and the gold tables
    computed from the landed files under ``root``."""
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.execute("SET TimeZone = 'UTC'")  # as the Spark session: text is read as UTC
    clean(con, root, s.topics)
    queries = gold_queries(posts, joins)
    for name, table in GOLD_TABLES.items():  # in order: one gold table reads an earlier one
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {typed(table, queries[name])}")
    return con
