"""Summarizers: a session's facts in, a few sentences out. Built in (extractive) or any OpenAI-compatible API.

The extractive summarizer needs no network and no model: it quotes the user turn that carries the request,
the agent turn that carries the outcome, and the tool calls' outcomes. Deterministic.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sessionary.analysis.facts import SessionFacts, ToolOutcome, Turn, brief, is_error
from sessionary.transcripts import formatting as fmt

if TYPE_CHECKING:  # httpx is imported when an API summarizer is made (6 MB in every server process)
    import httpx

log = logging.getLogger(__name__)

_REQUEST_CUES = re.compile(
    r"\b(i need|i want|i'?d like|i would like|i'?m calling|i am calling|calling (about|to|for)|can you"
    r"|could you|can i|is it possible|i have a question|question about|help (me|with)|looking for"
    r"|i was charged|problem"
    r"|issue with|trying to|want to|need to|book|schedule|reschedule|cancel|refill|change my|update my"
    r"|check on|status of|are you open|charged)\b",
    re.IGNORECASE,
)
_OUTCOME_CUES = re.compile(
    r"\b(done|booked|confirmed|scheduled|cancell?ed|ready|sent|submitted|updated|transfer\w*|reference"
    r"|confirmation|all set|will be|has been|is closed|are closed|open again|refund\w*|resolved|sorry)\b",
    re.IGNORECASE,
)
_PLEASANTRY = re.compile(
    r"^(is there )?anything else( i can (help|do)[^.?!]*)?[.?!]*$|^have a (great|nice|good) (day|one)[.!]*$"
    r"|^(thank you|thanks)[^.?!]{0,30}[.!]*$",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.?!])\s+")
_TURN_CHARS = 300
_TOOLS_SHOWN = 5


@dataclass(frozen=True)
class SummaryResult:
    summary: str
    summarizer: str  # the name stored with it: extractive | openai


class Summarizer(Protocol):
    name: str

    def summarize(self, facts: SessionFacts) -> SummaryResult:
        """A summary of the session (raises SummarizerError when it cannot)."""
        ...


class SummarizerError(Exception):
    """The summarizer could not produce a summary (network error, bad answer)."""


class ExtractiveSummarizer:
    """The caller's request, the outcome, and the tool outcomes, quoted from the session."""

    name = "extractive"

    def summarize(self, facts: SessionFacts) -> SummaryResult:
        parts: list[str] = []
        request_index, request = _request(facts.turns)
        if request is not None:
            parts.append(f"User: {_quote(request.text)}")
        outcome = _outcome(facts.turns, after=request_index)
        if outcome:
            parts.append(f"Agent: {_quote(outcome)}")
        if facts.tools:
            parts.append("Tools: " + _tools(facts.tools))
        parts.extend(_ending(facts))
        if not facts.turns:
            parts.insert(0, "No conversation was recorded.")
        return SummaryResult(summary=" ".join(parts), summarizer=self.name)


def _request(turns: tuple[Turn, ...]) -> tuple[int, Turn | None]:
    """The user turn (of the first four) that best states the request; (-1, None) without user turns."""
    candidates = [(i, turn) for i, turn in enumerate(turns) if turn.source == "user" and turn.text.strip()][
        :4
    ]
    if not candidates:
        return -1, None

    def score(item: tuple[int, Turn]) -> tuple[float, int]:
        words = len(item[1].text.split())
        cues = len(_REQUEST_CUES.findall(item[1].text))
        return 3 * cues + min(words, 15) / 15 - (2 if words < 3 else 0), -item[0]

    return max(candidates, key=score)


def _outcome(turns: tuple[Turn, ...], *, after: int) -> str:
    """The last agent turn after the request that states an outcome (else the last one), pleasantries cut."""
    agent = [turn.text for turn in turns[after + 1 :] if turn.source == "agent"]
    trimmed = [text for text in (_without_pleasantries(text) for text in agent) if text]
    for text in reversed(trimmed):
        if _OUTCOME_CUES.search(text):
            return text
    return trimmed[-1] if trimmed else ""


def _without_pleasantries(text: str) -> str:
    sentences = [s for s in _SENTENCE.split(text.strip()) if s and not _PLEASANTRY.match(s.strip())]
    return " ".join(sentences)


def _tools(tools: tuple[ToolOutcome, ...]) -> str:
    said = [
        f"{tool.name} failed ({brief(tool.error)})" if is_error(tool.error) else _succeeded(tool)
        for tool in tools[:_TOOLS_SHOWN]
    ]
    more = len(tools) - _TOOLS_SHOWN
    return "; ".join(said) + (f"; and {more} more calls." if more > 0 else ".")


def _succeeded(tool: ToolOutcome) -> str:
    return f"{tool.name} succeeded" + (
        f" ({brief(tool.result)})" if tool.result not in (None, "", {}) else ""
    )


def _ending(facts: SessionFacts) -> list[str]:
    if facts.transfer_voicemail_detected:
        return ["The transfer reached voicemail."]
    if facts.user_terminated and facts.turns and facts.turns[-1].source == "agent":
        return ["The user hung up after the agent's last turn."]
    return []


def _quote(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _TURN_CHARS:
        text = text[: _TURN_CHARS - 1] + "…"
    return f'"{text}"'


SYSTEM_PROMPT = (
    "You summarize a conversation between a user and an automated agent for a quality reviewer. "
    "In two to four plain sentences, say what the user wanted, what the agent did (including tool results "
    "and errors) and how the conversation ended. No lists, no markdown, no preamble."
)
_MAX_TRANSCRIPT_CHARS = 40_000


class OpenAISummarizer:
    """Any OpenAI-compatible chat completions endpoint: POST {base_url}/chat/completions."""

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model = model
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout, transport=transport
        )

    def summarize(self, facts: SessionFacts) -> SummaryResult:
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": transcript_text(facts)},
            ],
        }
        import httpx  # imported already, by __init__

        try:
            response = self._http.post("chat/completions", json=body)
            response.raise_for_status()
            text = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise SummarizerError(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(text, str) or not text.strip():
            raise SummarizerError("the answer holds no summary text")
        return SummaryResult(summary=text.replace("\x00", "").strip(), summarizer=self.name)

    def close(self) -> None:
        self._http.close()


def transcript_text(facts: SessionFacts) -> str:
    """The session as the model reads it: one line per turn or tool call, with its offset."""
    items: list[tuple[float, str]] = []
    for turn in facts.turns:
        items.append(((turn.at - facts.started_at).total_seconds(), f"{turn.source}: {turn.text}"))
    for tool in facts.tools:
        said = (
            f"error {_clip(fmt.payload(tool.error))}"
            if is_error(tool.error)
            else f"result {_clip(fmt.payload(tool.result))}"
        )
        items.append(((tool.at - facts.started_at).total_seconds(), f"[tool {tool.name}: {said}]"))
    lines = [
        f"[{max(0, int(seconds)) // 60:02d}:{max(0, int(seconds)) % 60:02d}] {text}"
        for seconds, text in sorted(items, key=lambda i: i[0])
    ]
    text = "\n".join(lines) or "(no transcript)"
    if len(text) > _MAX_TRANSCRIPT_CHARS:
        half = _MAX_TRANSCRIPT_CHARS // 2
        text = text[:half] + "\n[...]\n" + text[-half:]
    return text


def _clip(text: str | None, limit: int = 500) -> str:
    text = text or "null"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class FallbackSummarizer:
    """The primary summarizer; when it fails, the fallback (the failure is logged, never raised)."""

    def __init__(self, primary: Summarizer, fallback: Summarizer) -> None:
        self.primary, self.fallback = primary, fallback
        self.name = primary.name

    def summarize(self, facts: SessionFacts) -> SummaryResult:
        try:
            return self.primary.summarize(facts)
        except SummarizerError as exc:
            log.warning(
                "summarizer %s failed for session %s (%s); using %s",
                self.primary.name,
                facts.session_id,
                exc,
                self.fallback.name,
            )
            return self.fallback.summarize(facts)
