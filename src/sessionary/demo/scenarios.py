"""Scripted demo conversations: agents, prompts and the dialogues their callers have with them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Tool:
    name: str
    request: dict[str, Any]
    result: dict[str, Any]
    error: dict[str, Any] | None = None


@dataclass(frozen=True)
class Notable:
    """A `custom` event the producer reports after turn N (listed by GET /api/v1/events/)."""

    type: str
    category: str
    description: str
    attributes: dict[str, Any]
    source: str = "agent"
    voice_only: bool = False  # a phone transfer only happens on a call


@dataclass(frozen=True)
class Scenario:
    """One kind of conversation: who the agent is and what is said, turn by turn."""

    agent_id: str
    agent_name: str
    prompt_id: str
    prompt_name: str
    turns: tuple[tuple[str, str], ...]
    tools: dict[int, Tool] = field(default_factory=dict)  # tool called after turn N
    notable: dict[int, Notable] = field(default_factory=dict)  # custom event reported after turn N


PHARMACY = Scenario(
    agent_id="101",
    agent_name="Pharmacy Refills",
    prompt_id="7",
    prompt_name="Refill assistant v3",
    turns=(
        ("agent", "Thanks for calling Riverside Pharmacy. How can I help you today?"),
        ("user", "Hi, I need to refill my blood pressure prescription."),
        ("agent", "Of course. Can I have your date of birth to look you up?"),
        ("user", "It's March third, nineteen seventy-two."),
        ("agent", "Thank you. I see lisinopril 10 milligrams. Shall I send it to the Main Street store?"),
        ("user", "Yes please, Main Street."),
        ("agent", "Done. It will be ready tomorrow after 2 PM. Anything else?"),
        ("user", "No, that's all. Thanks!"),
    ),
    tools={
        3: Tool("lookup_patient", {"dob": "1972-03-03"}, {"patient_id": "P-88213", "matches": 1}),
        5: Tool(
            "submit_refill", {"rx": "lisinopril-10", "store": "main-st"}, {"status": "queued", "ready": "+1d"}
        ),
    },
)
SCHEDULING = Scenario(
    agent_id="102",
    agent_name="Clinic Scheduling",
    prompt_id="9",
    prompt_name="Appointments",
    turns=(
        ("agent", "Hello, this is the Lakeside Clinic scheduling line. What can I do for you?"),
        ("user", "I'd like to book a check-up with Doctor Patel next week."),
        ("agent", "Let me check her availability. Do mornings or afternoons work better?"),
        ("user", "Mornings, ideally Tuesday."),
        ("agent", "Tuesday at 9:30 is open. Shall I book it?"),
        ("user", "Perfect, book it."),
        ("agent", "You're booked for Tuesday at 9:30 with Doctor Patel. You'll get a text reminder."),
    ),
    tools={
        2: Tool(
            "check_availability", {"provider": "patel", "week": "next"}, {"slots": ["Tue 09:30", "Thu 11:00"]}
        ),
        5: Tool("book_appointment", {"provider": "patel", "slot": "Tue 09:30"}, {"confirmation": "LC-4471"}),
    },
)
BILLING = Scenario(
    agent_id="103",
    agent_name="Billing Support",
    prompt_id="12",
    prompt_name="Billing FAQ",
    turns=(
        ("agent", "Hi, you've reached billing support. How can I help?"),
        ("user", "I was charged twice for my last order."),
        ("agent", "I'm sorry about that. Could you give me the order number?"),
        ("user", "It's A one two three four five."),
        ("agent", "I can't reach the billing system right now. Let me transfer you to a specialist."),
        ("user", "Okay, fine."),
    ),
    tools={
        3: Tool(
            "lookup_order",
            {"order": "A12345"},
            {},
            error={"code": "UPSTREAM_TIMEOUT", "message": "billing API did not answer in 5s"},
        ),
        4: Tool(
            "transfer_call", {"destination": "+18005550142", "queue": "billing-specialists"}, {"ok": True}
        ),
    },
    notable={
        4: Notable(
            type="phone-transfer",
            category="automation",
            description="Transfer to phone number +18005550142",
            attributes={"queue": "billing-specialists", "reason": "billing system unavailable"},
            voice_only=True,
        )
    },
)
HOLIDAY = Scenario(
    agent_id="104",
    agent_name="Front Desk",
    prompt_id="15",
    prompt_name="Opening hours",
    turns=(
        ("agent", "Good morning, Harbor Dental. How may I help?"),
        ("user", "Are you open on Monday? It's a holiday."),
        ("agent", "Let me check the holiday calendar."),
        ("agent", "We are closed Monday and open again Tuesday at 8 AM."),
        ("user", "Great, thank you."),
    ),
    tools={2: Tool("holiday_check", {"date": "next-monday"}, {"open": False, "reopens": "Tue 08:00"})},
    notable={
        1: Notable(
            type="faq-answered",
            category="self-service",
            description="Holiday hours answered without a human",
            attributes={"topic": "holiday-hours"},
        )
    },
)
SCENARIOS = (PHARMACY, SCHEDULING, BILLING, HOLIDAY)
# (provider, model, version, temperature, seed) of the LLM behind each demo session, picked at random.
LLMS = (
    ("openai", "gpt-4.1", "2025-04-14", 0.2, None),
    ("openai", "gpt-4.1-mini", "2025-04-14", 0.3, 7),
    ("anthropic", "claude-sonnet-4", "20250514", 0.0, None),
    ("google", "gemini-2.5-flash", "001", 0.5, 42),
)
