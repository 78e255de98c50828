"""The counts every gold table is derived from, kept in one Delta table so that a run after a
little more data landed updates them instead of joining and aggregating all of silver again.

Each pin contributes to counts by kind (``contributions``):

    country_category  pin x geo: (country, category, year of the post)
    age_category      pin x user: (age_group, category)
    followers         pin x user: (age_group, year joined, follower_count), for the medians

and the most followed posters of each country are kept as ``top_poster`` rows (``n`` = 1): a
run in which posters only arrive finds the new ones among the old and the arrived; one in which
a pin's poster changed finds them again from every pin. (The distinct users per year are
counted from silver user, a single scan.)

A count is kept per distinct key (``n``): the medians are derived exactly from the histogram.

The table is a log: a run appends the changes to the counts (new contributions minus old ones,
for the keys ``ind`` that changed in silver since the last run, read from Delta's change data
feed), and a key's count is the sum of its rows (``current``). Appending costs a run what it
changed, where merging into the counts would rewrite most of their files; every
``COMPACT_AFTER`` appends the log is rewritten as one row per key. Each write notes in its
commit (Delta's ``userMetadata``) the silver versions the counts then reflect, so a run that
crashes before or after it leaves counts and versions that agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    IntegerType,
    LongType,
    StringType,
    StructField,
)

from pinpipe.contract import AGE_BANDS
from pinpipe.spark.merge import KEY

KEY_FIELDS = (
    StructField("kind", StringType()),
    StructField("country", StringType()),
    StructField("category", StringType()),
    StructField("post_year", IntegerType()),
    StructField("poster_name", StringType()),
    StructField("follower_count", LongType()),
    StructField("age_group", StringType()),
    StructField("join_year", IntegerType()),
)
KEY_COLUMNS = tuple(f.name for f in KEY_FIELDS)

# Only these silver columns feed a count.
PIN_COLUMNS = (KEY, "category", "poster_name", "follower_count")
GEO_COLUMNS = (KEY, "country", "timestamp")
USER_COLUMNS = (KEY, "user_name", "age", "date_joined")


@dataclass(frozen=True)
class Silver:
    """The silver tables (or some of their rows), with only the columns the counts use."""

    pin: DataFrame
    geo: DataFrame
    user: DataFrame

    @classmethod
    def of(cls, pin: DataFrame, geo: DataFrame, user: DataFrame) -> Silver:
        return cls(pin.select(*PIN_COLUMNS), geo.select(*GEO_COLUMNS), user.select(*USER_COLUMNS))

    def frames(self) -> tuple[DataFrame, DataFrame, DataFrame]:
        return self.pin, self.geo, self.user

    def persisted(self) -> Silver:
        return Silver(*(t.persist() for t in self.frames()))


def age_group(age: Column) -> Column:
    *bounded, oldest = AGE_BANDS
    group = F.when(age <= F.lit(bounded[0].max_age), bounded[0].label)
    for band in bounded[1:]:
        group = group.when(age <= F.lit(band.max_age), band.label)
    return group.otherwise(oldest.label)


def _keyed(df: DataFrame, kind: str) -> DataFrame:
    """``df``'s columns as count keys of ``kind``: the other key columns are null (and ``n``,
    if ``df`` has it, is kept)."""
    present = set(df.columns)
    return df.select(
        F.lit(kind).alias("kind"),
        *(
            (F.col(f.name) if f.name in present else F.lit(None))
            .cast(f.dataType.simpleString())  # a type object, sent over Spark Connect, would
            .alias(f.name)  # be written as "string collate UTF8_BINARY", which readers reject
            for f in KEY_FIELDS[1:]
        ),
        *(["n"] if "n" in present else []),
    )


def _pin_geo(silver: Silver) -> DataFrame:
    return silver.pin.join(silver.geo, KEY).select(
        "country", "category", F.year("timestamp").alias("post_year"), "poster_name",
        "follower_count",
    )  # fmt: skip


def contributions(silver: Silver) -> DataFrame:
    """One row of count keys per contribution of these silver rows (not yet counted)."""
    pin_geo = _pin_geo(silver)
    pin_user = silver.pin.join(silver.user.where(F.col("age").isNotNull()), KEY).select(
        age_group(F.col("age")).alias("age_group"),
        "category",
        F.year("date_joined").alias("join_year"),
        "follower_count",
    )
    by_country = pin_geo.where(F.col("category").isNotNull())
    by_age = pin_user.where(F.col("category").isNotNull())
    followers = pin_user.where(F.col("follower_count").isNotNull())
    return (
        _keyed(by_country.select("country", "category", "post_year"), "country_category")
        .unionByName(_keyed(by_age.select("age_group", "category"), "age_category"))
        .unionByName(
            _keyed(followers.select("age_group", "join_year", "follower_count"), "followers")
        )
    )


def posters(silver: Silver) -> DataFrame:
    """(country, poster_name, follower_count) of each pin with a country and a follower count
    (one row per pin, not distinct)."""
    return (
        _pin_geo(silver)
        .where(F.col("country").isNotNull() & F.col("follower_count").isNotNull())
        .select("country", "poster_name", "follower_count")
    )


def top_with_ties(df: DataFrame, group: list[str], value: str) -> DataFrame:
    """Rows whose ``value`` is the largest within their group (every tied row is kept)."""
    best = Window.partitionBy(*group)
    return (
        df.withColumn("_max", F.max(value).over(best))
        .where(F.col(value) == F.col("_max"))
        .drop("_max")
    )


def most_followed(poster_rows: DataFrame) -> DataFrame:
    """The posters with the most followers in each country, ties kept (distinct rows)."""
    return top_with_ties(poster_rows.distinct(), ["country"], "follower_count")


def counted(rows: DataFrame) -> DataFrame:
    """Count key rows -> one row per distinct key with ``n`` = how many."""
    return rows.groupBy(*KEY_COLUMNS).agg(F.count("*").alias("n"))


def _signed_sum(plus: DataFrame, minus: DataFrame, columns: tuple[str, ...]) -> DataFrame:
    """``plus`` minus ``minus`` as a multiset: per distinct row, the non-zero difference ``n``."""
    both = plus.withColumn("n", F.lit(1)).unionByName(minus.withColumn("n", F.lit(-1)))
    summed = both.groupBy(*columns).agg(F.sum("n").cast(LongType()).alias("n"))
    return summed.where(F.col("n") != 0)


def counts_of(silver: Silver) -> DataFrame:
    """Every count of these silver rows, with the most followed posters (``top_poster``)."""
    tops = _keyed(most_followed(posters(silver)).withColumn("n", F.lit(1)), "top_poster")
    return counted(contributions(silver)).unionByName(tops)


def difference(old: Silver, new: Silver, tops: DataFrame, now: Silver) -> DataFrame:
    """What to add to the counts when silver's rows ``old`` became ``new``; ``tops``: the most
    followed posters the counts hold, ``now``: all of silver, read only if a poster may have
    left the table (then the most followed are found again from every pin)."""
    counts = _signed_sum(contributions(new), contributions(old), KEY_COLUMNS)
    poster_columns = ("country", "poster_name", "follower_count")
    arrived = _signed_sum(posters(new), posters(old), poster_columns)
    if arrived.where(F.col("n") < 0).isEmpty():
        # Only arrivals: the new most followed are among the old ones and the arrived.
        new_tops = most_followed(tops.unionByName(arrived.drop("n")))
    else:
        new_tops = most_followed(posters(now))
    top_rows = _keyed(_signed_sum(new_tops, tops, poster_columns), "top_poster")
    return counts.unionByName(top_rows)


def top_posters(counts: DataFrame) -> DataFrame:
    """The most followed posters of each country, as the counts hold them."""
    tops = counts.where((F.col("kind") == "top_poster") & (F.col("n") > 0))
    return tops.select("country", "poster_name", "follower_count")


def current(log: DataFrame) -> DataFrame:
    """The counts the log adds up to: one row per key whose count is not zero."""
    summed = log.groupBy(*KEY_COLUMNS).agg(F.sum("n").cast(LongType()).alias("n"))
    return summed.where(F.col("n") != 0)


# Keeping the counts table up to date.

CHANGE_FEED = "delta.enableChangeDataFeed"
COMPACT_AFTER = 20  # appends to the log, then it is rewritten as one row per key


@dataclass(frozen=True)
class Commit:
    version: int
    operation: str
    mode: str | None  # of a write: Append, Overwrite
    note: str | None  # userMetadata


def _history(spark: SparkSession, path: str) -> list[Commit]:
    """Every commit of the table, oldest first."""
    rows = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()
    commits = [
        Commit(
            int(r["version"]), str(r["operation"]), (r["operationParameters"] or {}).get("mode"),
            r["userMetadata"],
        )
        for r in rows
    ]  # fmt: skip
    return sorted(commits, key=lambda c: c.version)


def _feeds_changes(spark: SparkSession, path: str) -> bool:
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()
    return detail is not None and (detail["properties"] or {}).get(CHANGE_FEED) == "true"


def _at(spark: SparkSession, paths: Mapping[str, str], versions: Mapping[str, int]) -> Silver:
    pin, geo, user = (
        spark.read.format("delta").option("versionAsOf", versions[t]).load(paths[t])
        for t in ("pin", "geo", "user")
    )
    return Silver.of(pin, geo, user)


def _changes(spark: SparkSession, path: str, since: int) -> DataFrame:
    """Delta's change data feed of the table after version ``since``."""
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", since + 1)
        .load(path)
    )


def _before_and_after(changes: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Of each key in a change data feed: its row before the first change (none if that
    inserted it) and after the last (none if that deleted it)."""
    by_key = Window.partitionBy(KEY)
    ends = changes.withColumn("_first", F.min("_commit_version").over(by_key)).withColumn(
        "_last", F.max("_commit_version").over(by_key)
    )
    kind, version = F.col("_change_type"), F.col("_commit_version")
    before = ends.where((version == F.col("_first")) & kind.isin("update_preimage", "delete"))
    after = ends.where((version == F.col("_last")) & kind.isin("update_postimage", "insert"))
    return before, after


def _changed_rows(
    spark: SparkSession,
    paths: Mapping[str, str],
    before: Mapping[str, int],
    now: Mapping[str, int],
    kept: list[DataFrame],
) -> tuple[Silver, Silver] | None:
    """The rows of every key changed in some silver table, at the versions ``before`` and
    ``now``; None if nothing changed. A table's changed keys' rows come from its change data
    feed; only the keys changed in another table alone are looked up in the table itself.
    Frames to unpersist afterwards are added to ``kept``."""
    tables = ("pin", "geo", "user")
    changes = {
        t: _changes(spark, paths[t], before[t]).persist() for t in tables if now[t] > before[t]
    }
    kept += changes.values()
    if not changes:
        return None
    first_feed, *other_feeds = changes.values()
    keys = first_feed.select(KEY)
    for more in other_feeds:
        keys = keys.unionByName(more.select(KEY))
    keys = keys.distinct().persist()
    kept.append(keys)
    old, new = [], []
    for t in tables:
        table = spark.read.format("delta").option("versionAsOf", now[t]).load(paths[t])
        columns = table.columns
        feed: DataFrame | None = changes.get(t)
        unchanged = keys if feed is None else keys.join(feed.select(KEY), KEY, "left_anti")
        same = table.limit(0)
        if not unchanged.isEmpty():
            same = table.join(F.broadcast(unchanged), KEY, "left_semi").persist()
            kept.append(same)
        if feed is None:
            old.append(same)
            new.append(same)
        else:
            first, last = _before_and_after(feed)
            old.append(first.select(*columns).unionByName(same))
            new.append(last.select(*columns).unionByName(same))
    return Silver.of(*old).persisted(), Silver.of(*new).persisted()


def update(spark: SparkSession, path: str, silver_paths: Mapping[str, str], exists: bool) -> str:
    """Bring the counts at ``path`` up to the silver tables' current versions, and say how:
    "updated" by the rows changed since the versions they record, "recounted" from every row
    when they cannot follow them (no counts yet, or a silver table was rebuilt or changed other
    than by merges, whose changed rows the change data feed holds), or "unchanged"."""
    with ThreadPoolExecutor(max_workers=len(silver_paths)) as pool:
        found = pool.map(partial(_history, spark), silver_paths.values())
        histories = dict(zip(silver_paths, found, strict=True))
    now = {t: h[-1].version for t, h in histories.items()}
    log = spark.read.format("delta").load(path) if exists else None
    own = _history(spark, path) if exists else []
    before = json.loads(own[-1].note) if own and own[-1].note else {}
    # The recount turned the change data feed on, so only a table changed since then other than
    # by a merge (which includes turning the feed off) can have changes missing from the feed.
    followed = set(before) == set(now) and all(
        before[t] <= now[t] and all(c.operation == "MERGE" for c in h if c.version > before[t])
        for t, h in histories.items()
    )
    if log is None or not followed:
        _recount(spark, path, silver_paths, now)
        return "recounted"
    kept: list[DataFrame] = []
    try:
        changed = _changed_rows(spark, silver_paths, before, now, kept)
        if changed is None:
            return "unchanged"
        old, new = changed
        kept += [*old.frames(), *new.frames()]
        tops = top_posters(current(log))
        rows = difference(old, new, tops, _at(spark, silver_paths, now))
        rewritten = max((c.version for c in own if c.mode == "Overwrite"), default=-1)
        appended = sum(1 for c in own if c.version > rewritten and c.mode == "Append")
        if appended + 1 >= COMPACT_AFTER:
            _write(current(log.unionByName(rows)), path, "overwrite", now)
        else:
            _write(rows, path, "append", now)
    finally:
        for frame in kept:
            frame.unpersist()
    return "updated"


def _write(rows: DataFrame, path: str, mode: str, versions: Mapping[str, int]) -> None:
    """Write counts, with the silver versions they reflect as the commit's note."""
    writer = (
        rows.write.format("delta").mode(mode).partitionBy("kind")
        .option("userMetadata", json.dumps(dict(versions), sort_keys=True))
    )  # fmt: skip
    if mode == "overwrite":
        writer = writer.option("overwriteSchema", "true")
    writer.save(path)


def _recount(
    spark: SparkSession, path: str, silver_paths: Mapping[str, str], now: dict[str, int]
) -> None:
    """Count every silver row into a new counts table, and have silver record its changes from
    now on so the next run can follow them."""
    for table, p in silver_paths.items():
        if not _feeds_changes(spark, p):
            spark.sql(f"ALTER TABLE delta.`{p}` SET TBLPROPERTIES ({CHANGE_FEED} = true)")
            now[table] = _history(spark, p)[-1].version
    _write(counts_of(_at(spark, silver_paths, now)), path, "overwrite", now)
