"""The source database on real MariaDB and PostgreSQL servers, and on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pinpipe.contract import SOURCE_TABLES
from pinpipe.source import db, populate
from pinpipe.source.generator import SourceGenerator
from tests.integration import databases
from tests.sample import SAMPLE_ROWS, assert_sample_stored, sample_available, sample_dir

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["sqlite", "mariadb", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        yield f"sqlite:///{workdir / 'source.db'}"
    elif request.param == "mariadb":
        with databases.mariadb(workdir) as url:
            yield url
    else:
        with databases.postgres(workdir) as url:
            yield url


def test_init_creates_the_three_tables_and_refuses_to_overwrite(database_url: str) -> None:
    engine = db.connect(database_url)
    db.init(engine, replace=True)
    db.ensure_tables(engine)
    with pytest.raises(db.SourceError, match="--replace"):
        db.init(engine)


def test_generated_rows_read_back_as_generated(database_url: str) -> None:
    engine = db.connect(database_url)
    populate.prepare_tables(engine, replace=True)
    assert populate.generate(engine, rows=2000, seed=11) == 2000
    expected = list(SourceGenerator(2000, seed=11))
    with engine.connect() as conn:
        for i, table in enumerate(SOURCE_TABLES):
            assert list(db.read_rows(conn, table)) == [row[i] for row in expected], table.name


@pytest.mark.skipif(not sample_available(), reason="the real sample is not next to the project")
def test_the_real_sample_reads_back_unchanged(database_url: str) -> None:
    engine = db.connect(database_url)
    populate.prepare_tables(engine, replace=True)
    assert populate.load(engine, sample_dir()) == {t: SAMPLE_ROWS for t in ("pin", "geo", "user")}
    with engine.connect() as conn:
        assert_sample_stored(conn)


def test_a_wrong_url_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(db.SourceError, match="cannot connect"):
        db.connect(f"mysql+pymysql://root@127.0.0.1:{databases.free_port()}/nope")
    with pytest.raises(db.SourceError, match="cannot use database URL"):
        db.connect("nosuchdb://x")
