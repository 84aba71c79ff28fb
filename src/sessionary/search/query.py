"""The search box: what a user types, turned into a query that SQLite FTS5 and PostgreSQL always accept.

Syntax: words (every one must match), "quoted phrases" (the words in that order), and the last word also
matches as a prefix (`refi` finds `refill`) when it is a single word of at least 3 letters or digits.
Nothing else is an operator: `*`, `-`, `+`, `:`, `^`, parentheses, `AND`/`OR`/`NOT`/`NEAR` are plain text.
Each word or phrase reaches the database as a quoted string that the database's own tokenizer splits
(punctuation separates words, case and, on SQLite, accents are folded), so no input can form a syntax error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LENGTH = 500  # characters of `q`
MAX_TERMS = 16
PREFIX_MIN = 3
# A letter or digit of any script: what the tokenizers keep (the rest, `_` included, separates words).
TOKEN = re.compile(r"[^\W_]+")


class QueryError(ValueError):
    """`q` has nothing to search for, or too much."""


@dataclass(frozen=True)
class Term:
    """A word or a phrase, as typed (without its double quotes); `prefix`: also matches longer words."""

    text: str
    phrase: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[Term, ...]

    def fts5(self) -> str:
        """The FTS5 MATCH expression: every term a double-quoted string, all of them required (AND)."""
        return " ".join(_fts5_string(term) for term in self.terms)


def _fts5_string(term: Term) -> str:
    quoted = '"' + term.text.replace('"', '""') + '"'
    return quoted + "*" if term.prefix else quoted


def parse(q: str) -> SearchQuery:
    """The terms of `q`; QueryError when it has no letter or digit, or more than MAX_TERMS terms."""
    if "\x00" in q:
        raise QueryError("q must not contain the NUL character")
    terms: list[Term] = []
    # Between double quotes is a phrase; an unbalanced last quote opens a phrase up to the end.
    for index, part in enumerate(q.split('"')):
        if index % 2:
            terms.append(Term(part, phrase=True))
        else:
            terms.extend(Term(word) for word in part.split())
    terms = [term for term in terms if TOKEN.search(term.text)]
    if not terms:
        raise QueryError("q must contain at least one letter or digit")
    if len(terms) > MAX_TERMS:
        raise QueryError(f"q has {len(terms)} words or phrases; at most {MAX_TERMS} are allowed")
    last = terms[-1]
    tokens = TOKEN.findall(last.text)
    if not last.phrase and len(tokens) == 1 and len(tokens[0]) >= PREFIX_MIN:
        terms[-1] = Term(tokens[0], prefix=True)  # edge punctuation dropped: `refi,` is `refi`
    return SearchQuery(tuple(terms))
