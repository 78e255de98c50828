"""Synthetic source rows calibrated on the real sample (``calibration``), deterministic per seed.

Row ``i`` of each table shares the join key ``i``. Each post has a poster (posters repeat, and
keep their follower count), a category, a media type with the placeholders that go with it, a
location and time, and a person (people repeat, with the same age and join date).
"""

from __future__ import annotations

import bisect
import math
import random
import string
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any, Generic, TypeVar

from faker.providers.address.en import Provider as AddressProvider
from faker.providers.person.en_US import Provider as PersonProvider

from pinpipe import contract
from pinpipe.source import calibration as cal
from pinpipe.source import vocabulary as vocab

T = TypeVar("T")
Row = dict[str, Any]


class Weighted(Generic[T]):
    """Draws from fixed weights with one random number and a binary search."""

    def __init__(self, weights: Mapping[T, float] | Sequence[tuple[T, float]]) -> None:
        pairs = list(weights.items()) if isinstance(weights, Mapping) else list(weights)
        self.values = [v for v, _ in pairs]
        self.cumulative = list(accumulate(w for _, w in pairs))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random) -> T:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


def _countries_by_letter() -> dict[str, list[str]]:
    by_letter: dict[str, list[str]] = {}
    for name in AddressProvider.countries:
        by_letter.setdefault(name[0], []).append(name)
    return by_letter


COUNTRIES = _countries_by_letter()
COUNTRY_LETTER = Weighted({k: v for k, v in cal.COUNTRY_LETTER_COUNTS.items() if k in COUNTRIES})
FIRST_NAMES = Weighted(list(PersonProvider.first_names.items()))
LAST_NAMES = Weighted(list(PersonProvider.last_names.items()))
CATEGORY = Weighted(cal.CATEGORY_COUNTS)
MEDIA = Weighted(cal.MEDIA_COUNTS)
FOLLOWER_FORM = Weighted(cal.FOLLOWER_FORM_COUNTS)
K_DIGITS = Weighted(cal.K_DIGITS_COUNTS)
M_VALUE = Weighted(cal.M_VALUE_COUNTS)
AGE = Weighted(cal.AGE_COUNTS)
JOINED_MONTH = Weighted(cal.JOINED_MONTH_COUNTS)
POSTED_SPAN_S = int((cal.POSTED_LAST - cal.POSTED_FIRST).total_seconds())
# Tag phrases per category: a common prefix and a word of one of the category's topics.
TAG_PHRASES = {
    category: sorted(
        {
            f"{prefix} {string.capwords(word)}"
            for t in topics
            for word in t.split()
            for prefix in vocab.TAG_PREFIXES
        }
    )
    for category, topics in vocab.TOPICS.items()
}


def follower_count(rng: random.Random) -> str:
    form = FOLLOWER_FORM.draw(rng)
    if form == "k":
        digits = K_DIGITS.draw(rng)
        return f"{rng.randint(10 ** (digits - 1), 10**digits - 1)}k"
    if form == "M":
        return f"{M_VALUE.draw(rng)}M"
    plain = int(rng.lognormvariate(math.log(cal.PLAIN_FOLLOWERS_MEDIAN), 1.0))
    return str(min(plain, 999))


def joined_at(rng: random.Random) -> datetime:
    year, month = JOINED_MONTH.draw(rng)
    start = max(datetime(year, month, 1), cal.JOINED_FIRST)
    end = datetime(year + month // 12, month % 12 + 1, 1) - timedelta(seconds=1)
    end = min(end, cal.JOINED_LAST)
    return start + timedelta(seconds=rng.randint(0, int((end - start).total_seconds())))


def _poster_name(rng: random.Random, topic: str) -> str:
    template = rng.choice(vocab.POSTER_TEMPLATES)
    return template.format(
        first=FIRST_NAMES.draw(rng),
        last=LAST_NAMES.draw(rng),
        adj=rng.choice(vocab.ADJECTIVES),
        noun=rng.choice(vocab.POSTER_NOUNS),
        suffix=rng.choice(vocab.POSTER_SUFFIXES),
        topic=topic,
    )


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _uuid4(rng: random.Random) -> str:
    """A random (version 4) UUID drawn from the generator's own random stream."""
    h = _hex(rng, 32)
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


class SourceGenerator:
    """Yields aligned (pin, geo, user) rows; the same seed and size give the same rows."""

    def __init__(self, rows: int, seed: int = 0) -> None:
        if rows < 0:
            raise ValueError("rows must be >= 0")
        self.rows = rows
        self.rng = random.Random(seed)
        rng = self.rng
        categories = list(cal.CATEGORY_COUNTS)
        self.posters: dict[str, list[tuple[str, str]]] = {c: [] for c in categories}
        total_posters = max(len(categories), round(cal.POSTER_POOL_PER_ROW * rows))
        followers_of: dict[str, str] = {}  # a name made twice is the same poster
        for i in range(total_posters):
            category = (
                categories[i % len(categories)] if i < len(categories) else CATEGORY.draw(rng)
            )
            name = _poster_name(rng, rng.choice(vocab.TOPICS[category]))
            followers = followers_of.setdefault(name, follower_count(rng))
            self.posters[category].append((name, followers))
        self.people = [
            (FIRST_NAMES.draw(rng), LAST_NAMES.draw(rng), AGE.draw(rng), joined_at(rng))
            for _ in range(max(1, round(cal.PEOPLE_POOL_PER_ROW * rows)))
        ]

    def __iter__(self) -> Iterator[tuple[Row, Row, Row]]:
        for index in range(self.rows):
            yield self.pin(index), self.geo(index), self.user(index)

    def pin(self, index: int) -> Row:
        rng = self.rng
        category = CATEGORY.draw(rng)
        media = MEDIA.draw(rng)
        topic = rng.choice(vocab.TOPICS[category])
        poster, followers = rng.choice(self.posters[category])
        image_error = media == cal.MEDIA_STORY and rng.random() < cal.P_STORY_IMAGE_ERROR
        broken = image_error and rng.random() < cal.P_BROKEN_GIVEN_IMAGE_ERROR
        n = rng.randint(5, 50)
        adj = rng.choice(vocab.ADJECTIVES)
        audience = rng.choice(vocab.AUDIENCES)
        words = {"n": n, "adj": adj, "topic": topic, "audience": audience, "poster": poster}

        if broken:
            title = contract.TITLE_MISSING
        elif media == cal.MEDIA_STORY and rng.random() < cal.P_EMPTY_TITLE_GIVEN_STORY:
            title = ""
        else:
            title = rng.choice(vocab.TITLE_TEMPLATES).format(**words)

        if media == cal.MEDIA_STORY:
            description = contract.DESCRIPTION_STORY
        else:
            r = rng.random()
            if r < cal.P_DESCRIPTION_MISSING:
                description = contract.DESCRIPTION_MISSING
            elif r < cal.P_DESCRIPTION_MISSING + cal.P_DESCRIPTION_UNTITLED:
                description = contract.DESCRIPTION_UNTITLED
            else:
                description = rng.choice(vocab.DESCRIPTION_TEMPLATES).format(
                    **words,
                    adj_l=adj.lower(),
                    topic_l=topic.lower(),
                    audience_l=audience.lower(),
                )

        if broken or rng.random() < cal.P_TAGS_MISSING:
            tags = contract.TAGS_MISSING
        else:
            tags = ",".join(rng.choices(TAG_PHRASES[category], k=cal.TAGS_PER_POST))

        if image_error:
            image_src, downloaded = contract.IMAGE_SRC_ERROR, 0
        else:
            h = _hex(rng, 32)
            image_src, downloaded = (
                f"https://i.pinimg.com/originals/{h[:2]}/{h[2:4]}/{h[4:6]}/{h}.jpg",
                1,
            )

        return {
            "index": index,
            "unique_id": _uuid4(rng),
            "title": title,
            "description": description,
            "poster_name": contract.USER_INFO_ERROR if broken else poster,
            "follower_count": contract.USER_INFO_ERROR if broken else followers,
            "tag_list": tags,
            "is_image_or_video": media,
            "image_src": image_src,
            "downloaded": downloaded,
            "save_location": f"{contract.SAVE_LOCATION_PREFIX}/data/{category}",
            "category": category,
        }

    def geo(self, index: int) -> Row:
        rng = self.rng
        letter = COUNTRY_LETTER.draw(rng)
        return {
            "ind": index,
            "timestamp": cal.POSTED_FIRST + timedelta(seconds=rng.randint(0, POSTED_SPAN_S)),
            "latitude": float(f"{rng.uniform(-90, 90):.6g}"),
            "longitude": float(f"{rng.uniform(-180, 180):.6g}"),
            "country": rng.choice(COUNTRIES[letter]),
        }

    def user(self, index: int) -> Row:
        first, last, age, joined = self.rng.choice(self.people)
        return {
            "ind": index,
            "first_name": first,
            "last_name": last,
            "age": age,
            "date_joined": joined,
        }
