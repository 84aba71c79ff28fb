"""How PostgreSQL finds the newest `window` matching turns of several words or a phrase without reading
every match (one word is left to the planner: its statistics tell how common the word is).

Its GIN index returns every match of the words, unordered; reading each from the table to order them by
id is what cost (85,000 turns say `lab` and `results` at 1M turns: 0.4-0.7 s). A sample of the newest
REACH_SAMPLE events shows how dense the matches are, so how far back the window's matches reach; the
walk then takes the matches of those newest ids first, then of REACH_FURTHER times as far back, then the
rest. Each range is read only if the newer ones held fewer than `window` matches (its LIMIT is what is
still missing, and LIMIT 0 reads nothing), so the result is exactly that of one walk through all matches;
a sample that guessed wrong only costs time.

The first range is read one of two ways, whichever reads less:
* `walk`: the primary key backwards from the newest id, each turn checked against the words (what the
  planner does by itself for one common word): about `window / density` rows, however long the history;
* `bitmap`: the GIN index's bitmap ANDed with the primary key's range (phrases, less common words): every
  match of the words in the index (a cost that grows with the history), then only the range's in the table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    bindparam,
    func,
    select,
    union_all,
)

REACH_SAMPLE = 4000  # newest events looked at
REACH_MARGIN = 1.25  # the first range is guessed to hold this many times the window's matches
REACH_FURTHER = 4  # the second range reaches this many times as far back
WALK_ROWS = 150_000  # rows a walk may read before the bitmap is preferred (unless the index holds more)
WINDOW = bindparam("window", type_=Integer)

Plan = Literal["walk", "bitmap"]


@dataclass(frozen=True)
class Reach:
    plan: Plan
    near: int  # the first range: ids >= near
    mid: int  # the second: mid <= id < near; the third: id < mid

    def values(self) -> dict[str, int]:
        return {"near": self.near, "mid": self.mid}


def reach_of(newest: int | None, oldest: int | None, found: int, window: int) -> Reach | None:
    """The ranges for `found` matches among the sampled ids oldest..newest, or None: one walk through all
    matches is cheaper (none in the sample, or the window reaches back over half the ids)."""
    if not found or newest is None or oldest is None:
        return None
    per_match = (newest - oldest + 1) / found  # ids per matching turn
    reach = math.ceil(per_match * window * REACH_MARGIN)
    if 2 * reach > newest:
        return None
    in_index = newest / per_match  # every match in the index, about
    plan: Plan = "walk" if reach / REACH_MARGIN <= max(WALK_ROWS, in_index) else "bitmap"
    return Reach(plan, newest - reach, newest - REACH_FURTHER * reach)


# One range's newest `limit` matches: (since, before, limit) -> the statement; None: no bound.
Walk = Callable[[Any, Any, Any], Select[Any]]


def ranges(first: Walk, further: Walk) -> CompoundSelect[Any]:
    """The window's matches in the three ranges, newest first: `first` reads the first range, `further`
    the others."""
    near, mid = bindparam("near", type_=BigInteger), bindparam("mid", type_=BigInteger)
    nearest = first(near, None, WINDOW).cte("near_matches").prefix_with("MATERIALIZED")
    taken: ColumnElement[Any] = select(func.count()).select_from(nearest).scalar_subquery()
    middle = (
        further(mid, near, func.greatest(WINDOW - taken, 0)).cte("mid_matches").prefix_with("MATERIALIZED")
    )
    taken = taken + select(func.count()).select_from(middle).scalar_subquery()
    rest = further(None, mid, func.greatest(WINDOW - taken, 0))
    return union_all(select(nearest), select(middle), rest)
