"""The /api/v2 response models, as the official Genesys clients declare them: camelCase keys, dates as
`yyyy-MM-ddTHH:mm:ss.SSSZ`; routes drop every null key (`response_model_exclude_none`). Each model has
exactly the keys of its namesake in the client (keys it does not declare are dropped on validation), and
every key the client requires is always sent: a default below is the value chosen where sessionary has
no true one (README, "Genesys journey API"). tests/journey/test_wire_conformance.py holds them to it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, model_validator
from pydantic.alias_generators import to_camel


def millis_z(value: datetime) -> str:
    """A UTC timestamp as Genesys writes it: milliseconds and `Z`."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:23] + "Z"  # drops "+00:00"; years are 4 digits


# How ua-parser names a family it cannot tell, and a version it cannot read.
OTHER = "Other"
UNKNOWN = "Unknown"
GDate = Annotated[datetime, PlainSerializer(millis_z, return_type=str, when_used="json")]


class Out(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class EntityRef(Out):
    id: str | None = None
    self_uri: str | None = None


class CustomEventAttribute(Out):
    data_type: str
    value: str


class CustomEventAttributeList(Out):
    data_type: str
    values: list[str]


class WebEventBrowser(Out):
    """The browser as an ingest response echoes it. Unknown: ua-parser's words for what a user agent
    does not tell (or no user agent at all)."""

    family: str = OTHER
    version: str = UNKNOWN
    lang: str | None = None


class Browser(WebEventBrowser):
    fingerprint: str | None = None
    is_mobile: bool | None = None
    view_height: int | None = None
    view_width: int | None = None
    # Genesys's tracker probes these in the page; sessionary runs no script there, so none is detected.
    features_flash: bool = False
    features_java: bool = False
    features_pdf: bool = False
    features_webrtc: bool = False


class WebEventDevice(Out):
    """The device as a web event response echoes it; unknown parts as ua-parser names them."""

    category: Literal["desktop", "mobile", "tablet", "other"] = "other"
    type: str = OTHER
    is_mobile: bool | None = None
    screen_height: int | None = None
    screen_width: int | None = None
    screen_density: int | None = None
    os_family: str = OTHER
    os_version: str = UNKNOWN
    manufacturer: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _mobile_from_category(cls, data: Any) -> Any:
        """isMobile, when the event did not say, is what its category says (mobile and tablet)."""
        if isinstance(data, dict) and data.get("isMobile", data.get("is_mobile")) is None:
            return {**data, "isMobile": data.get("category") in ("mobile", "tablet")}
        return data


class Device(WebEventDevice):
    is_mobile: bool
    fingerprint: str | None = None


class Geolocation(Out):
    country: str | None = None
    country_name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    locality: str | None = None
    postal_code: str | None = None
    region: str | None = None
    region_name: str | None = None
    source: str | None = None
    timezone: str | None = None


class _PageParts(Out):
    """A URL's parts: one without a host has `""` for its domain and hostname."""

    url: str
    domain: str = ""
    fragment: str | None = None
    hostname: str = ""
    keywords: str | None = None
    lang: str | None = None
    pathname: str = "/"
    query_string: str | None = None


class ResponsePage(_PageParts):
    """The page as a web event response echoes it (a request without a title: `""`)."""

    title: str = ""


class Page(_PageParts):
    """JourneyPage: sessionary keeps no breadcrumb, so it is always empty (as Genesys shows it)."""

    title: str | None = None
    breadcrumb: list[str] = Field(default_factory=list)


class Campaign(Out):
    content: str | None = None
    medium: str | None = None
    name: str | None = None
    source: str | None = None
    term: str | None = None
    click_id: str | None = None
    network: str | None = None


class Referrer(Out):
    url: str
    domain: str = ""
    hostname: str = ""
    keywords: str | None = None
    pathname: str = "/"
    query_string: str | None = None
    fragment: str | None = None
    name: str | None = None
    medium: Literal["internal", "search", "social", "email", "unknown", "paid"] = "unknown"


class App(Out):
    name: str
    namespace: str
    version: str
    build_number: str


class SdkLibrary(Out):
    name: str
    version: str


class NetworkConnectivity(Out):
    carrier: str | None = None
    bluetooth_enabled: bool
    cellular_enabled: bool
    wifi_enabled: bool


class LastEvent(Out):
    id: str
    event_name: str
    created_date: GDate


class RuleRef(Out):
    """AssignedSegment / AchievedOutcome."""

    id: str
    self_uri: str | None = None


class SegmentAssignment(Out):
    segment: RuleRef
    assigned_date: GDate


class OutcomeAchievement(Out):
    outcome: RuleRef
    achieved_date: GDate


class ConversationChannel(Out):
    type: Literal["Unknown", "Call", "Callback", "Email", "Messaging", "Webchat", "Chat", "Video"]
    message_type: Literal["Unknown", "Sms", "WhatsApp", "WebMessaging", "Open"] | None = None
    platform: str | None = None


class Session(Out):
    """A journey (web/app) or conversation session."""

    id: str
    external_contact: EntityRef | None = None
    customer_id: str | None = None
    customer_id_type: str | None = None
    type: str
    external_id: str | None = None
    short_id: str | None = None
    outcome_achievements: list[OutcomeAchievement] | None = None
    segment_assignments: list[SegmentAssignment] | None = None
    attributes: dict[str, CustomEventAttribute] | None = None
    attribute_lists: dict[str, CustomEventAttributeList] | None = None
    browser: Browser | None = None
    device: Device | None = None
    geolocation: Geolocation | None = None
    ip_address: str | None = None
    ip_organization: str | None = None
    last_page: Page | None = None
    mkt_campaign: Campaign | None = None
    referrer: Referrer | None = None
    app: App | None = None
    sdk_library: SdkLibrary | None = None
    network_connectivity: NetworkConnectivity | None = None
    search_terms: list[str] | None = None
    user_agent_string: str | None = None
    duration_in_seconds: int | None = None
    event_count: int
    pageview_count: int | None = None
    screenview_count: int | None = None
    last_event: LastEvent
    conversation: EntityRef | None = None
    conversation_channels: list[ConversationChannel] | None = None
    originating_direction: Literal["Unknown", "Inbound", "Outbound"] | None = None
    authenticated: bool
    last_screen: str | None = None
    self_uri: str
    created_date: GDate
    ended_date: GDate | None = None
    away_date: GDate | None = None
    idle_date: GDate | None = None


class SessionListing(Out):
    entities: list[Session]
    next_uri: str | None = None
    self_uri: str | None = None
    previous_uri: str | None = None


class EventSession(Out):
    id: str
    type: str
    self_uri: str | None = None


class WebEvent(Out):
    """A stored web event. Without a user agent (none sent, no header): `""`, and browser and device
    as an unreadable user agent gives them."""

    event_name: str
    total_event_count: int
    total_pageview_count: int
    page: Page
    user_agent_string: str = ""
    browser: Browser = Field(default_factory=Browser)
    device: Device = Field(default_factory=lambda: Device(is_mobile=False))
    geolocation: Geolocation | None = None
    ip_address: str | None = None
    ip_organization: str | None = None
    mkt_campaign: Campaign | None = None
    referrer: Referrer | None = None
    attributes: dict[str, CustomEventAttribute]
    traits: dict[str, CustomEventAttribute]
    search_query: str | None = None
    authenticated: bool


class AppEvent(Out):
    event_name: str
    screen_name: str
    app: App
    device: Device
    ip_address: str | None = None
    ip_organization: str | None = None
    geolocation: Geolocation | None = None
    sdk_library: SdkLibrary | None = None
    network_connectivity: NetworkConnectivity | None = None
    mkt_campaign: Campaign | None = None
    search_query: str | None = None
    attributes: dict[str, CustomEventAttribute]
    traits: dict[str, CustomEventAttribute]


class SegmentAssignmentEvent(Out):
    segment: EntityRef


class OutcomeRef(Out):
    """OutcomeAchievedEventOutcome: sessionary keeps one version of an outcome, version 1."""

    id: str
    self_uri: str | None = None
    display_name: str
    version: int = 1


class OutcomeAchievedEvent(Out):
    outcome: OutcomeRef
    visit_created_date: GDate | None = None


class Event(Out):
    id: str
    correlation_id: str
    customer_id: str | None = None
    customer_id_type: str | None = None
    session: EventSession
    event_type: str
    web_event: WebEvent | None = None
    app_event: AppEvent | None = None
    segment_assignment_event: SegmentAssignmentEvent | None = None
    outcome_achieved_event: OutcomeAchievedEvent | None = None
    created_date: GDate


class EventListing(Out):
    entities: list[Event]
    next_uri: str | None = None
    self_uri: str | None = None
    previous_uri: str | None = None


class OutcomeScore(Out):
    outcome: EntityRef
    session_max_probability: float
    probability: float


class OutcomeScoresResult(Out):
    outcome_scores: list[OutcomeScore]
    modified_date: GDate | None = None
