"""The baseline: the same cleaning and gold tables in DuckDB (one process, SQL), from the same
landed files."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pinpipe.config import Settings

CLEAN = r"""
CREATE OR REPLACE TABLE pin AS
SELECT * EXCLUDE (rn) FROM (
  SELECT TRY_CAST("index" AS BIGINT) AS ind,
    CASE WHEN follower_count IN ('', 'User Info Error') THEN NULL
         ELSE CAST(TRY_CAST(regexp_extract(follower_count, '^\s*([0-9]+(\.[0-9]+)?)\s*([kKmM]?)\s*$', 1) AS DECIMAL(20,3))
              * CASE lower(regexp_extract(follower_count, '^\s*([0-9]+(\.[0-9]+)?)\s*([kKmM]?)\s*$', 3))
                  WHEN 'k' THEN 1000 WHEN 'm' THEN 1000000 ELSE 1 END AS BIGINT) END AS follower_count,
    NULLIF(NULLIF(poster_name, ''), 'User Info Error') AS poster_name,
    NULLIF(category, '') AS category,
    row_number() OVER (PARTITION BY TRY_CAST("index" AS BIGINT) ORDER BY filename DESC) AS rn
  FROM read_json('{pin}', format='newline_delimited', filename=true, columns={{
    "index": 'VARCHAR', follower_count: 'VARCHAR', poster_name: 'VARCHAR', category: 'VARCHAR'}})
) WHERE rn = 1 AND ind IS NOT NULL;
CREATE OR REPLACE TABLE geo AS
SELECT TRY_CAST(ind AS BIGINT) AS ind, country, TRY_CAST("timestamp" AS TIMESTAMP) AS ts
FROM read_json('{geo}', format='newline_delimited', columns={{
  ind: 'VARCHAR', country: 'VARCHAR', "timestamp": 'VARCHAR'}})
QUALIFY row_number() OVER (PARTITION BY TRY_CAST(ind AS BIGINT)) = 1;
CREATE OR REPLACE TABLE usr AS
SELECT TRY_CAST(ind AS BIGINT) AS ind, first_name || ' ' || last_name AS user_name,
  TRY_CAST(age AS INT) AS age, TRY_CAST(date_joined AS TIMESTAMP) AS date_joined
FROM read_json('{user}', format='newline_delimited', columns={{
  ind: 'VARCHAR', first_name: 'VARCHAR', last_name: 'VARCHAR', age: 'VARCHAR', date_joined: 'VARCHAR'}})
QUALIFY row_number() OVER (PARTITION BY TRY_CAST(ind AS BIGINT)) = 1;
"""

AGE_GROUP = """CASE WHEN age < 18 THEN '<18' WHEN age <= 24 THEN '18-24' WHEN age <= 35 THEN '25-35'
  WHEN age <= 50 THEN '36-50' ELSE '+50' END"""


def _most_popular(group: str, alias: str, source: str, where: str) -> str:
    """Rows with the top count per group, ties kept."""
    return f"""
      SELECT g AS {alias}, category, n AS category_count FROM (
        SELECT g, category, n, max(n) OVER (PARTITION BY g) m FROM (
          SELECT {group} g, category, count(*) n FROM {source} WHERE {where} GROUP BY 1, 2))
      WHERE n = m"""


GOLD = {
    "popular_category_by_country": _most_popular(
        "country",
        "country",
        "pin JOIN geo USING (ind)",
        "category IS NOT NULL AND country IS NOT NULL",
    ),
    "popular_category_by_year": _most_popular(
        "year(ts)",
        "post_year",
        "pin JOIN geo USING (ind)",
        "year(ts) BETWEEN 2018 AND 2022 AND category IS NOT NULL",
    ),
    "most_followed_by_country": """
      SELECT country, poster_name, follower_count FROM (
        SELECT DISTINCT country, poster_name, follower_count,
          max(follower_count) OVER (PARTITION BY country) m
        FROM pin JOIN geo USING (ind) WHERE follower_count IS NOT NULL AND country IS NOT NULL)
      WHERE follower_count = m""",
    "popular_category_by_age_group": _most_popular(
        AGE_GROUP,
        "age_group",
        "pin JOIN usr USING (ind)",
        "age IS NOT NULL AND category IS NOT NULL",
    ),
    "median_followers_by_age_group": f"""
      SELECT {AGE_GROUP} AS age_group, median(follower_count) AS median_follower_count
      FROM pin JOIN usr USING (ind) WHERE age IS NOT NULL AND follower_count IS NOT NULL GROUP BY 1""",
    "users_joined_by_year": """
      SELECT year(date_joined) AS post_year, count(*) AS number_users_joined
      FROM (SELECT DISTINCT user_name, age, date_joined FROM usr)
      WHERE year(date_joined) BETWEEN 2015 AND 2020 GROUP BY 1""",
    "median_followers_by_join_year": """
      SELECT year(date_joined) AS post_year, median(follower_count) AS median_follower_count
      FROM pin JOIN usr USING (ind) WHERE age IS NOT NULL AND follower_count IS NOT NULL
        AND year(date_joined) BETWEEN 2015 AND 2020 GROUP BY 1""",
    "median_followers_by_age_group_and_join_year": f"""
      SELECT {AGE_GROUP} AS age_group, year(date_joined) AS post_year,
        median(follower_count) AS median_follower_count
      FROM pin JOIN usr USING (ind) WHERE age IS NOT NULL AND follower_count IS NOT NULL
        AND year(date_joined) BETWEEN 2015 AND 2020 GROUP BY 1, 2""",
}


def gold_tables(s: Settings, root: Path) -> dict[str, int]:
    """Cleans and computes every gold table; returns their row counts."""
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    paths = {t: str(root / "topics" / topic / "*" / "*.json") for t, topic in s.topics.items()}
    con.execute(CLEAN.format(**paths))
    counts = {}
    for name, sql in GOLD.items():
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
        counts[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # type: ignore[index]
    con.execute(
        "CREATE OR REPLACE TABLE top_country_by_followers AS SELECT DISTINCT country, "
        "follower_count FROM most_followed_by_country WHERE follower_count = "
        "(SELECT max(follower_count) FROM most_followed_by_country)"
    )
    counts["top_country_by_followers"] = con.execute(
        "SELECT count(*) FROM top_country_by_followers"
    ).fetchone()[0]  # type: ignore[index]
    return counts
