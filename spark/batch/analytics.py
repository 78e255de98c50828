"""The gold tables of pipeline-spec section 5, each derived from the counts of silver's rows
(``gold_counts``), which the batch job keeps up to date instead of joining all of silver again.

"Most popular" keeps ties; medians are exact (``median``'s value, from a histogram of the
values); year ranges are parameters, applied here, so one set of counts serves any range.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import LongType

from pinpipe.contract import GOLD_TABLES, JOIN_YEARS, POST_YEARS
from pinpipe.spark.batch import gold_counts

USERS_JOINED = "users_joined_by_year"  # counted from silver user itself


@dataclass(frozen=True)
class YearRanges:
    posts: tuple[int, int] = POST_YEARS
    joins: tuple[int, int] = JOIN_YEARS


def gold_tables(
    pin: DataFrame, geo: DataFrame, user: DataFrame, years: YearRanges = YearRanges()
) -> dict[str, DataFrame]:
    """Every gold table by name, in pipeline-spec order, from the silver tables."""
    counts = gold_counts.counts_of(gold_counts.Silver.of(pin, geo, user))
    return gold_tables_of(counts, user, years)


def _of_kind(counts: DataFrame, kind: str, *columns: str) -> DataFrame:
    """The counts of one kind: its key columns and ``n``."""
    return counts.where(F.col("kind") == kind).select(*columns, "n")


def _most_popular_category(counts: DataFrame, group: list[str]) -> DataFrame:
    per_category = counts.groupBy(*group, "category").agg(F.sum("n").alias("category_count"))
    return gold_counts.top_with_ties(per_category, group, "category_count").select(
        *group, "category", F.col("category_count").cast(LongType())
    )


def _median_followers(followers: DataFrame, group: list[str]) -> DataFrame:
    """The exact median follower count per group from a histogram (``n`` rows per value): the
    middle value, or the mean of the two middle ones, as Spark's ``median`` gives."""
    histogram = followers.groupBy(*group, "follower_count").agg(F.sum("n").alias("n"))
    running = (
        Window.partitionBy(*group)
        .orderBy("follower_count")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    ranked = histogram.withColumn("through", F.sum("n").over(running)).withColumn(
        "total", F.sum("n").over(Window.partitionBy(*group))
    )
    # 0-based ranks of the middle values; the value at rank r is the first whose running count
    # passes r.
    low, high = F.floor((F.col("total") - 1) / 2), F.floor(F.col("total") / 2)
    return ranked.groupBy(*group).agg(
        (
            (
                F.min(F.when(F.col("through") > low, F.col("follower_count")))
                + F.min(F.when(F.col("through") > high, F.col("follower_count")))
            ).cast("double")
            / 2
        ).alias("median_follower_count")
    )


def users_joined_by_year(user: DataFrame, years: YearRanges) -> DataFrame:
    first, last = years.joins
    people = (
        user.select("user_name", "age", "date_joined")
        .distinct()
        .withColumn("post_year", F.year("date_joined"))
        .where(F.col("post_year").between(first, last))
    )
    return people.groupBy("post_year").agg(F.count("*").alias("number_users_joined"))


def gold_tables_of(
    counts: DataFrame, user: DataFrame, years: YearRanges = YearRanges()
) -> dict[str, DataFrame]:
    """Every gold table by name, in pipeline-spec order, from the counts of silver's rows, and
    silver user (the distinct users per year are counted from it)."""
    tables = {**counted_gold_tables(counts, years), USERS_JOINED: users_joined_by_year(user, years)}
    return {name: tables[name] for name in GOLD_TABLES}


def counted_gold_tables(
    counts: DataFrame, years: YearRanges = YearRanges()
) -> dict[str, DataFrame]:
    """The gold tables derived from the counts of silver's rows: all but ``USERS_JOINED``."""
    posts, joins = years.posts, years.joins
    country_category = _of_kind(counts, "country_category", "country", "category", "post_year")
    followers = _of_kind(counts, "followers", "age_group", "join_year", "follower_count")
    joined_in_range = followers.where(F.col("join_year").between(*joins)).withColumnRenamed(
        "join_year", "post_year"
    )
    most_followed = gold_counts.top_posters(counts)
    per_country = most_followed.select("country", "follower_count").distinct()
    return {
        "popular_category_by_country": _most_popular_category(
            country_category.where(F.col("country").isNotNull()), ["country"]
        ),
        "popular_category_by_year": _most_popular_category(
            country_category.where(F.col("post_year").between(*posts)), ["post_year"]
        ),
        "most_followed_by_country": most_followed,
        "top_country_by_followers": gold_counts.top_with_ties(
            per_country.withColumn("_all", F.lit(0)), ["_all"], "follower_count"
        ).drop("_all"),
        "popular_category_by_age_group": _most_popular_category(
            _of_kind(counts, "age_category", "age_group", "category"), ["age_group"]
        ),
        "median_followers_by_age_group": _median_followers(followers, ["age_group"]),
        "median_followers_by_join_year": _median_followers(joined_in_range, ["post_year"]),
        "median_followers_by_age_group_and_join_year": _median_followers(
            joined_in_range, ["age_group", "post_year"]
        ),
    }
