"""The auto-rating rules: each looks at one signal of an ended session and may report an issue.

No issue: GOOD. Only minor issues: OK. Any issue of a rule in `severe`: BAD. The rules, their thresholds and
settings are tabled in the README; every threshold is a setting (SESSIONARY_AUTORATING_*).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from statistics import median
from typing import Literal, get_args

from sessionary.analysis.facts import SessionFacts, brief, is_error
from sessionary.config import RuleName, Settings

Code = Literal["GOOD", "OK", "BAD"]

# rule -> the text it puts in the label's issue_categories
CATEGORIES = {
    "tool_error": "Tool error",
    "silence": "Long silence",
    "latency": "High latency",
    "hangup": "User hung up after agent turn",
    "voicemail": "Transfer to voicemail",
    "no_user_turn": "No user turn",
    "short_session": "Very short session",
}
LATENCY_CATEGORIES = ("llm", "stt", "tts")
RATINGS = {"GOOD": "Good", "OK": "Ok", "BAD": "Bad"}
# category -> (median of the sessions' mean latency in ms, how many sessions measured it)
Norm = Mapping[str, tuple[float, int]]


@dataclass(frozen=True)
class RatingRules:
    silence_seconds: float = 15.0
    latency_factor: float = 2.0
    latency_min_sessions: int = 20
    latency_window: int = 500
    hangup_seconds: float = 10.0
    hangup_needs_question: bool = True
    short_seconds: float = 10.0
    severe: frozenset[str] = frozenset({"tool_error", "voicemail", "no_user_turn", "hangup"})
    disabled: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls, settings: Settings) -> RatingRules:
        """The rules as SESSIONARY_AUTORATING_* configure them."""
        return cls(
            silence_seconds=settings.autorating_silence_seconds,
            latency_factor=settings.autorating_latency_factor,
            latency_min_sessions=settings.autorating_latency_min_sessions,
            latency_window=settings.autorating_latency_window,
            hangup_seconds=settings.autorating_hangup_seconds,
            hangup_needs_question=settings.autorating_hangup_needs_question,
            short_seconds=settings.autorating_short_seconds,
            severe=frozenset(settings.autorating_severe),
            disabled=frozenset(settings.autorating_disabled),
        )


@dataclass(frozen=True)
class Issue:
    rule: str
    category: str
    detail: str


@dataclass(frozen=True)
class Rating:
    code: Code
    issues: tuple[Issue, ...] = ()

    @property
    def categories(self) -> list[str]:
        return [issue.category for issue in self.issues]

    @property
    def comments(self) -> str | None:
        return "; ".join(issue.detail for issue in self.issues) or None

    @property
    def text(self) -> str:
        """The rating as the full summary carries it: Good, Ok or Bad."""
        return RATINGS[self.code]


def rate(facts: SessionFacts, rules: RatingRules, norm: Norm) -> Rating:
    """Apply every enabled rule; the code follows from the issues found."""
    issues = []
    for name, check in _CHECKS.items():
        if name not in rules.disabled and (detail := check(facts, rules, norm)):
            issues.append(Issue(name, CATEGORIES[name], detail))
    if not issues:
        return Rating("GOOD")
    severe = any(issue.rule in rules.severe for issue in issues)
    return Rating("BAD" if severe else "OK", tuple(issues))


def norm_of(session_means: Iterable[Mapping[str, float]]) -> dict[str, tuple[float, int]]:
    """The organization's norm from its sessions' mean latencies: per category, the median and count."""
    values: dict[str, list[float]] = {}
    for means in session_means:
        for category, value in means.items():
            values.setdefault(category, []).append(value)
    return {category: (median(found), len(found)) for category, found in values.items()}


def _tool_error(facts: SessionFacts, rules: RatingRules, norm: Norm) -> str | None:
    failed = [tool for tool in facts.tools if is_error(tool.error)]
    return "; ".join(f"{tool.name} failed: {brief(tool.error)}" for tool in failed[:3]) or None


def _silence(facts: SessionFacts, rules: RatingRules, norm: Norm) -> str | None:
    gaps = [(later.at - earlier.at).total_seconds() for earlier, later in itertools.pairwise(facts.turns)]
    longest = max(gaps, default=0.0)
    if longest <= rules.silence_seconds:
        return None
    before = gaps.index(longest) + 2  # the 1-based number of the turn that ended the silence
    return f"{longest:.1f} s of silence before turn {before} of {len(facts.turns)}"


def _latency(facts: SessionFacts, rules: RatingRules, norm: Norm) -> str | None:
    slow = []
    for category, mean in sorted(facts.latency_means().items()):
        typical, sessions = norm.get(category, (0.0, 0))
        if category not in LATENCY_CATEGORIES or sessions < rules.latency_min_sessions or typical <= 0:
            continue
        if mean > rules.latency_factor * typical:
            slow.append(f"{category} mean {mean:.0f} ms, x{mean / typical:.1f} the organization's median")
    return "; ".join(slow) or None


def _hangup(facts: SessionFacts, rules: RatingRules, norm: Norm) -> str | None:
    if not (facts.user_terminated and facts.turns and facts.ended_at is not None):
        return None
    last = facts.turns[-1]
    after = (facts.ended_at - last.at).total_seconds()
    if last.source != "agent" or after > rules.hangup_seconds:
        return None
    if rules.hangup_needs_question and "?" not in last.text:
        return None
    return f"the user hung up {after:.1f} s after the agent said: {brief(last.text)}"


def _voicemail(facts: SessionFacts, rules: RatingRules, norm: Norm) -> str | None:
    return "voicemail answered the transfer" if facts.transfer_voicemail_detected else None


def _no_user_turn(facts: SessionFacts, rules: RatingRules, norm: Norm) -> str | None:
    if any(turn.source == "user" for turn in facts.turns):
        return None
    return f"no user turn in {len(facts.turns)} turns"


def _short_session(facts: SessionFacts, rules: RatingRules, norm: Norm) -> str | None:
    if facts.duration is None or facts.duration >= rules.short_seconds:
        return None
    return f"the session lasted {facts.duration:.1f} s"


_CHECKS: dict[str, Callable[[SessionFacts, RatingRules, Norm], str | None]] = {
    "tool_error": _tool_error,
    "silence": _silence,
    "latency": _latency,
    "hangup": _hangup,
    "voicemail": _voicemail,
    "no_user_turn": _no_user_turn,
    "short_session": _short_session,
}
assert set(_CHECKS) == set(CATEGORIES) == set(get_args(RuleName)), "every rule needs a check, a text, a name"
