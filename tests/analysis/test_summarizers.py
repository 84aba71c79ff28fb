"""The summarizers: the extractive one on realistic transcripts (deterministic, no network), and the
OpenAI-compatible one against a fake endpoint injected as an httpx transport."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from sessionary.analysis.facts import SessionFacts, ToolOutcome, Turn
from sessionary.analysis.summarizers import (
    SYSTEM_PROMPT,
    ExtractiveSummarizer,
    FallbackSummarizer,
    OpenAISummarizer,
    SummarizerError,
)
from tests.analysis.calls import T0


def facts(turns: list[tuple[str, str]], tools: list[ToolOutcome] = (), **ended: Any) -> SessionFacts:  # type: ignore[assignment]
    return SessionFacts(
        session_id=7,
        organization_id=1,
        started_at=T0,
        ended_at=T0 + timedelta(seconds=5 * len(turns) + 2),
        turns=tuple(
            Turn(source, text, T0 + timedelta(seconds=5 * n)) for n, (source, text) in enumerate(turns)
        ),
        tools=tuple(tools),
        **ended,
    )


def tool(name: str, result: Any = None, error: Any = None) -> ToolOutcome:
    return ToolOutcome(name=name, result=result, error=error, at=T0 + timedelta(seconds=12))


PHARMACY = [
    ("agent", "Thanks for calling Riverside Pharmacy. How can I help you today?"),
    ("user", "Hi there."),
    ("agent", "Hello! What can I do for you?"),
    ("user", "I need to refill my blood pressure prescription, the lisinopril."),
    ("agent", "Of course. Can I have your date of birth to look you up?"),
    ("user", "It's March third, nineteen seventy-two."),
    ("agent", "Done. It will be ready tomorrow after 2 PM at Main Street. Anything else?"),
    ("user", "No, that's all. Thanks!"),
    ("agent", "Thank you for calling. Have a great day!"),
]
BILLING = [
    ("agent", "Hi, you've reached billing support. How can I help?"),
    ("user", "Yes hello, I was charged twice for my last order and I want a refund."),
    ("agent", "I'm sorry about that. Could you give me the order number?"),
    ("user", "It's A one two three four five."),
    ("agent", "I can't reach the billing system right now. Let me transfer you to a specialist."),
    ("user", "Okay, fine."),
]


def test_extractive_quotes_the_request_the_outcome_and_the_tools() -> None:
    result = ExtractiveSummarizer().summarize(
        facts(
            PHARMACY,
            [
                tool("lookup_patient", {"patient_id": "P-88213", "matches": 1}),
                tool("submit_refill", {"status": "queued"}),
            ],
        )
    )
    assert result.summarizer == "extractive"
    assert result.summary == (
        'User: "I need to refill my blood pressure prescription, the lisinopril." '
        'Agent: "Done. It will be ready tomorrow after 2 PM at Main Street." '
        "Tools: lookup_patient succeeded (patient_id=P-88213, matches=1); "
        "submit_refill succeeded (status=queued)."
    )


def test_extractive_reports_a_failed_tool_and_a_transfer() -> None:
    error = {"code": "UPSTREAM_TIMEOUT", "message": "billing API did not answer in 5s"}
    summary = ExtractiveSummarizer().summarize(facts(BILLING, [tool("lookup_order", error=error)])).summary
    assert summary.startswith('User: "Yes hello, I was charged twice for my last order and I want a refund."')
    assert (
        'Agent: "I can\'t reach the billing system right now. Let me transfer you to a specialist."'
        in summary
    )
    assert summary.endswith(
        "Tools: lookup_order failed (UPSTREAM_TIMEOUT: billing API did not answer in 5s)."
    )


def test_extractive_says_how_the_session_ended() -> None:
    hung_up = facts(PHARMACY[:5], user_terminated=True)
    assert (
        ExtractiveSummarizer()
        .summarize(hung_up)
        .summary.endswith("The user hung up after the agent's last turn.")
    )
    voicemail = facts(BILLING, transfer_voicemail_detected=True)
    assert ExtractiveSummarizer().summarize(voicemail).summary.endswith("The transfer reached voicemail.")


def test_extractive_without_cues_takes_the_first_real_user_turn_and_the_last_agent_turn() -> None:
    chat = [
        ("agent", "Welcome to the help desk."),
        ("user", "ok"),
        ("user", "my screen is black after the update"),
        ("agent", "Hold the power button for ten seconds, then start it again."),
    ]
    summary = ExtractiveSummarizer().summarize(facts(chat)).summary
    assert summary == (
        'User: "my screen is black after the update" '
        'Agent: "Hold the power button for ten seconds, then start it again."'
    )


def test_extractive_on_an_empty_session_and_many_tools() -> None:
    tools = [tool(f"step_{n}", {"ok": True}) for n in range(7)]
    summary = ExtractiveSummarizer().summarize(facts([], tools)).summary
    assert summary.startswith("No conversation was recorded. Tools: step_0 succeeded (ok=True);")
    assert summary.endswith("; and 2 more calls.")


def test_extractive_is_deterministic_and_cuts_long_turns() -> None:
    long = [("user", "I would like to " + "change my address " * 40), ("agent", "Updated.")]
    first = ExtractiveSummarizer().summarize(facts(long)).summary
    assert first == ExtractiveSummarizer().summarize(facts(long)).summary
    quoted = first.split('"')[1]
    assert len(quoted) == 300
    assert quoted.endswith("…")


class FakeOpenAI:
    """An OpenAI-compatible chat completions endpoint: records requests, answers as told."""

    def __init__(self, status: int = 200, content: Any = "The user refilled a prescription.") -> None:
        self.status, self.content = status, content
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status != 200:
            return httpx.Response(self.status, json={"error": {"message": "overloaded"}})
        body = {
            "id": "x",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.content}}],
        }
        return httpx.Response(200, json=body)


def _openai(fake: Any) -> OpenAISummarizer:
    return OpenAISummarizer(
        base_url="http://llm.test/v1",
        model="tiny-model",
        api_key="sk-test",
        transport=httpx.MockTransport(fake),
    )


def test_openai_posts_the_transcript_to_chat_completions() -> None:
    fake = FakeOpenAI(content="  The user refilled a prescription.\n")
    result = _openai(fake).summarize(facts(PHARMACY[:4], [tool("lookup_patient", {"patient_id": "P-1"})]))
    assert result.summary == "The user refilled a prescription."
    assert result.summarizer == "openai"
    [request] = fake.requests
    assert (request.method, str(request.url)) == ("POST", "http://llm.test/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer sk-test"
    body = json.loads(request.content)
    assert body["model"] == "tiny-model"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][0]["content"] == SYSTEM_PROMPT
    assert body["messages"][1]["content"].splitlines() == [
        "[00:00] agent: Thanks for calling Riverside Pharmacy. How can I help you today?",
        "[00:05] user: Hi there.",
        "[00:10] agent: Hello! What can I do for you?",
        '[00:12] [tool lookup_patient: result {"patient_id":"P-1"}]',
        "[00:15] user: I need to refill my blood pressure prescription, the lisinopril.",
    ]


@pytest.mark.parametrize(
    "fake",
    [
        pytest.param(FakeOpenAI(status=503), id="5xx"),
        pytest.param(FakeOpenAI(content=""), id="empty-answer"),
        pytest.param(FakeOpenAI(content=None), id="null-answer"),
        pytest.param(lambda request: httpx.Response(200, text="not json"), id="not-json"),
        pytest.param(
            lambda request: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=request)), id="timeout"
        ),
    ],
)
def test_openai_failure_raises_and_the_fallback_summarizes_extractively(fake: Any) -> None:
    remote = _openai(fake)
    with pytest.raises(SummarizerError):
        remote.summarize(facts(PHARMACY))
    result = FallbackSummarizer(remote, ExtractiveSummarizer()).summarize(facts(PHARMACY))
    assert result.summarizer == "extractive"
    assert result.summary.startswith('User: "I need to refill')
