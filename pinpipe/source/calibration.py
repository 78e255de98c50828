"""Frequencies measured on 2,019 real rows of the original source tables; the generator draws
from these so that synthetic data looks like the real thing to the pipeline."""

from __future__ import annotations

from datetime import datetime

# The placeholder strings the source stores are in ``pinpipe.contract``.

CATEGORY_COUNTS = {
    "christmas": 201,
    "art": 175,
    "quotes": 168,
    "finance": 160,
    "education": 157,
    "mens-fashion": 156,
    "travel": 155,
    "diy-and-crafts": 153,
    "tattoos": 148,
    "event-planning": 146,
    "beauty": 136,
    "vehicles": 133,
    "home-decor": 131,
}

MEDIA_IMAGE, MEDIA_VIDEO, MEDIA_STORY = "image", "video", "multi-video(story page format)"
MEDIA_COUNTS = {MEDIA_IMAGE: 1819, MEDIA_VIDEO: 60, MEDIA_STORY: 140}

# Story pages have no description; some have no image (then nothing was downloaded), and of
# those some have no user info at all (title, poster, followers and tags are placeholders).
P_STORY_IMAGE_ERROR = 49 / 140
P_BROKEN_GIVEN_IMAGE_ERROR = 15 / 49
P_EMPTY_TITLE_GIVEN_STORY = 1 / 140
# Other posts: missing descriptions and tags.
P_DESCRIPTION_MISSING = 30 / 1879
P_DESCRIPTION_UNTITLED = 1 / 1879
P_TAGS_MISSING = 14 / 2004

# follower_count forms among posters with user info: plain digits, thousands, millions.
FOLLOWER_FORM_COUNTS = {"plain": 360, "k": 1492, "M": 152}
K_DIGITS_COUNTS = {1: 356, 2: 619, 3: 517}  # "7k", "43k", "502k"
M_VALUE_COUNTS = {1: 27, 2: 68, 3: 9, 4: 10, 5: 29, 6: 2, 8: 6, 15: 1}
PLAIN_FOLLOWERS_MEDIAN = 150  # plain counts run 0..970

# Posters and people repeat: 1,411 distinct of each in 2,019 rows. Uniform draws from a pool of
# 1.33 per row give that share (70%) of distinct ones.
POSTER_POOL_PER_ROW = 1.33
PEOPLE_POOL_PER_ROW = 1.33

TAGS_PER_POST = 9

# Users: age 20..60, peaking at 20.
AGE_COUNTS = {
    20: 385,
    21: 224,
    22: 101,
    23: 112,
    24: 68,
    25: 76,
    26: 57,
    27: 50,
    28: 73,
    29: 38,
    30: 56,
    31: 39,
    32: 50,
    33: 39,
    34: 42,
    35: 30,
    36: 32,
    37: 38,
    38: 35,
    39: 27,
    40: 26,
    41: 24,
    42: 30,
    43: 28,
    44: 27,
    45: 27,
    46: 20,
    47: 29,
    48: 21,
    49: 29,
    50: 27,
    51: 18,
    52: 16,
    53: 19,
    54: 11,
    55: 20,
    56: 13,
    57: 14,
    58: 15,
    59: 20,
    60: 13,
}

# Join dates run 2015-10-21 .. 2017-10-18, most of them early; counts per month.
JOINED_FIRST = datetime(2015, 10, 21)
JOINED_LAST = datetime(2017, 10, 18, 23, 59, 59)
JOINED_MONTH_COUNTS = {
    (2015, 10): 324,
    (2015, 11): 322,
    (2015, 12): 152,
    (2016, 1): 157,
    (2016, 2): 108,
    (2016, 3): 94,
    (2016, 4): 95,
    (2016, 5): 81,
    (2016, 6): 76,
    (2016, 7): 60,
    (2016, 8): 45,
    (2016, 9): 52,
    (2016, 10): 49,
    (2016, 11): 35,
    (2016, 12): 49,
    (2017, 1): 36,
    (2017, 2): 28,
    (2017, 3): 31,
    (2017, 4): 37,
    (2017, 5): 33,
    (2017, 6): 38,
    (2017, 7): 29,
    (2017, 8): 42,
    (2017, 9): 32,
    (2017, 10): 14,
}

# Posts are timestamped uniformly over five years, all after every join date.
POSTED_FIRST = datetime(2017, 10, 20)
POSTED_LAST = datetime(2022, 10, 18, 23, 59, 59)

# Countries (Faker's names) are skewed toward the start of the alphabet: rows per first letter.
COUNTRY_LETTER_COUNTS = {
    "A": 691,
    "B": 332,
    "C": 214,
    "D": 32,
    "E": 48,
    "F": 54,
    "G": 88,
    "H": 25,
    "I": 51,
    "J": 16,
    "K": 33,
    "L": 43,
    "M": 86,
    "N": 71,
    "O": 2,
    "P": 46,
    "Q": 4,
    "R": 9,
    "S": 96,
    "T": 35,
    "U": 26,
    "V": 8,
    "W": 4,
    "Y": 3,
    "Z": 2,
}

ORIGINAL_ROWS = 11_000
