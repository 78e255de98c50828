"""The gold tables of pipeline-spec section 5, each a function of the silver tables.

"Most popular" keeps ties; medians are exact (``median``); year ranges are parameters. Every
table is computed from two joins on ``ind``, pin with geo and pin with user (``Joined``), made
once and shared: ``run_analytics`` keeps them in memory while the nine tables are written.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from pinpipe.contract import AGE_BANDS, JOIN_YEARS, POST_YEARS


@dataclass(frozen=True)
class YearRanges:
    posts: tuple[int, int] = POST_YEARS
    joins: tuple[int, int] = JOIN_YEARS


# The columns the gold tables use from each join.
PIN_GEO_COLUMNS = ("country", "category", "timestamp", "poster_name", "follower_count")
PIN_USER_COLUMNS = ("category", "follower_count", "age", "date_joined")
USER_COLUMNS = ("user_name", "age", "date_joined")


@dataclass(frozen=True)
class Joined:
    """What the gold tables are computed from: silver pin joined with geo, and with user, on
    ``ind`` (one row per pin with a row in the other table), and silver user."""

    pin_geo: DataFrame
    pin_user: DataFrame
    user: DataFrame

    @classmethod
    def of(cls, pin: DataFrame, geo: DataFrame, user: DataFrame) -> Joined:
        return cls(
            pin_geo=pin.join(geo, "ind").select(*PIN_GEO_COLUMNS),
            pin_user=pin.join(user, "ind").select(*PIN_USER_COLUMNS),
            user=user.select(*USER_COLUMNS),
        )


def age_group(age: Column) -> Column:
    *bounded, oldest = AGE_BANDS
    group = F.when(age <= F.lit(bounded[0].max_age), bounded[0].label)
    for band in bounded[1:]:
        group = group.when(age <= F.lit(band.max_age), band.label)
    return group.otherwise(oldest.label)


def _top_with_ties(df: DataFrame, group: list[str], value: str) -> DataFrame:
    """Rows whose ``value`` is the largest within their group (every tied row is kept)."""
    best = Window.partitionBy(*group)
    return (
        df.withColumn("_max", F.max(value).over(best))
        .where(F.col(value) == F.col("_max"))
        .drop("_max")
    )


def _most_popular_category(df: DataFrame, group: list[str]) -> DataFrame:
    counts = df.groupBy(*group, "category").agg(F.count("*").alias("category_count"))
    return _top_with_ties(counts, group, "category_count")


def popular_category_by_country(pin_geo: DataFrame) -> DataFrame:
    joined = pin_geo.where(F.col("category").isNotNull() & F.col("country").isNotNull())
    return _most_popular_category(joined, ["country"]).select(
        "country", "category", "category_count"
    )


def popular_category_by_year(pin_geo: DataFrame, years: YearRanges) -> DataFrame:
    first, last = years.posts
    joined = pin_geo.withColumn("post_year", F.year("timestamp")).where(
        F.col("post_year").between(first, last) & F.col("category").isNotNull()
    )
    return _most_popular_category(joined, ["post_year"]).select(
        "post_year", "category", "category_count"
    )


def most_followed_by_country(pin_geo: DataFrame) -> DataFrame:
    joined = (
        pin_geo.where(F.col("follower_count").isNotNull() & F.col("country").isNotNull())
        .select("country", "poster_name", "follower_count")
        .distinct()
    )
    return _top_with_ties(joined, ["country"], "follower_count").select(
        "country", "poster_name", "follower_count"
    )


def top_country_by_followers(most_followed: DataFrame) -> DataFrame:
    per_country = most_followed.select("country", "follower_count").distinct()
    top = per_country.agg(F.max("follower_count").alias("_max"))
    return per_country.join(top, per_country["follower_count"] == top["_max"]).select(
        "country", "follower_count"
    )


def _with_age_group(pin_user: DataFrame) -> DataFrame:
    return pin_user.where(F.col("age").isNotNull()).withColumn("age_group", age_group(F.col("age")))


def popular_category_by_age_group(pin_user: DataFrame) -> DataFrame:
    joined = _with_age_group(pin_user).where(F.col("category").isNotNull())
    return _most_popular_category(joined, ["age_group"]).select(
        "age_group", "category", "category_count"
    )


def median_followers_by_age_group(pin_user: DataFrame) -> DataFrame:
    joined = _with_age_group(pin_user).where(F.col("follower_count").isNotNull())
    return joined.groupBy("age_group").agg(
        F.median("follower_count").alias("median_follower_count")
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


def _by_join_year(pin_user: DataFrame, years: YearRanges) -> DataFrame:
    first, last = years.joins
    return (
        _with_age_group(pin_user)
        .withColumn("post_year", F.year("date_joined"))
        .where(F.col("post_year").between(first, last) & F.col("follower_count").isNotNull())
    )


def median_followers_by_join_year(pin_user: DataFrame, years: YearRanges) -> DataFrame:
    return (
        _by_join_year(pin_user, years)
        .groupBy("post_year")
        .agg(F.median("follower_count").alias("median_follower_count"))
    )


def median_followers_by_age_group_and_join_year(
    pin_user: DataFrame, years: YearRanges
) -> DataFrame:
    return (
        _by_join_year(pin_user, years)
        .groupBy("age_group", "post_year")
        .agg(F.median("follower_count").alias("median_follower_count"))
    )


def gold_tables(
    pin: DataFrame, geo: DataFrame, user: DataFrame, years: YearRanges = YearRanges()
) -> dict[str, DataFrame]:
    """Every gold table by name, in pipeline-spec order."""
    return gold_tables_of(Joined.of(pin, geo, user), years)


def gold_tables_of(joined: Joined, years: YearRanges = YearRanges()) -> dict[str, DataFrame]:
    """Every gold table by name, in pipeline-spec order, from the joined silver tables."""
    pin_geo, pin_user, user = joined.pin_geo, joined.pin_user, joined.user
    most_followed = most_followed_by_country(pin_geo)
    return {
        "popular_category_by_country": popular_category_by_country(pin_geo),
        "popular_category_by_year": popular_category_by_year(pin_geo, years),
        "most_followed_by_country": most_followed,
        "top_country_by_followers": top_country_by_followers(most_followed),
        "popular_category_by_age_group": popular_category_by_age_group(pin_user),
        "median_followers_by_age_group": median_followers_by_age_group(pin_user),
        "users_joined_by_year": users_joined_by_year(user, years),
        "median_followers_by_join_year": median_followers_by_join_year(pin_user, years),
        "median_followers_by_age_group_and_join_year": median_followers_by_age_group_and_join_year(
            pin_user, years
        ),
    }
