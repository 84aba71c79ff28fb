"""The /api/v2 response models, as purecloudplatformclientv2 reads them: camelCase keys, dates as
`yyyy-MM-ddTHH:mm:ss.SSSZ`; routes drop every null key (`response_model_exclude_none`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel


def millis_z(value: datetime) -> str:
    """A UTC timestamp as Genesys writes it: milliseconds and `Z`."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:23] + "Z"  # drops "+00:00"; years are 4 digits


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


class Browser(Out):
    family: str | None = None
    version: str | None = None
    lang: str | None = None
    fingerprint: str | None = None
    is_mobile: bool | None = None
    view_height: int | None = None
    view_width: int | None = None
    features_flash: bool | None = None
    features_java: bool | None = None
    features_pdf: bool | None = None
    features_webrtc: bool | None = None


class Device(Out):
    category: Literal["desktop", "mobile", "tablet", "other"] | None = None
    type: str | None = None
    is_mobile: bool | None = None
    screen_height: int | None = None
    screen_width: int | None = None
    screen_density: int | None = None
    fingerprint: str | None = None
    os_family: str | None = None
    os_version: str | None = None
    manufacturer: str | None = None


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


class Page(Out):
    url: str
    title: str | None = None
    domain: str | None = None
    fragment: str | None = None
    hostname: str | None = None
    keywords: str | None = None
    lang: str | None = None
    pathname: str | None = None
    query_string: str | None = None
    breadcrumb: list[str] | None = None


class Campaign(Out):
    content: str | None = None
    medium: str | None = None
    name: str | None = None
    source: str | None = None
    term: str | None = None
    click_id: str | None = None
    network: str | None = None


class Referrer(Out):
    url: str | None = None
    domain: str | None = None
    hostname: str | None = None
    keywords: str | None = None
    pathname: str | None = None
    query_string: str | None = None
    fragment: str | None = None
    name: str | None = None
    medium: Literal["internal", "search", "social", "email", "unknown", "paid"] | None = None


class App(Out):
    name: str | None = None
    namespace: str | None = None
    version: str | None = None
    build_number: str | None = None


class SdkLibrary(Out):
    name: str | None = None
    version: str | None = None


class NetworkConnectivity(Out):
    carrier: str | None = None
    bluetooth_enabled: bool | None = None
    cellular_enabled: bool | None = None
    wifi_enabled: bool | None = None


class LastEvent(Out):
    id: str
    event_name: str
    created_date: GDate


class SegmentAssignment(Out):
    segment: EntityRef
    assigned_date: GDate


class OutcomeAchievement(Out):
    outcome: EntityRef
    achieved_date: GDate


class ConversationChannel(Out):
    type: str
    message_type: str | None = None
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
    last_event: LastEvent | None = None
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
    event_name: str
    total_event_count: int
    total_pageview_count: int
    page: Page
    user_agent_string: str | None = None
    browser: Browser | None = None
    device: Device | None = None
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
    id: str
    self_uri: str | None = None
    display_name: str | None = None
    version: int | None = None


class OutcomeAchievedEvent(Out):
    outcome: OutcomeRef
    visit_created_date: GDate | None = None


class Event(Out):
    id: str
    correlation_id: str | None = None
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


class ResponseSession(Out):
    id: str
    duration_in_seconds: int
    event_count: int
    pageview_count: int | None = None
    screenview_count: int | None = None
    referrer: Referrer | None = None
    self_uri: str
    created_date: GDate


class WebEventResponse(Out):
    customer_id: str
    event_name: str
    customer_id_type: str
    page: Page
    user_agent_string: str | None = None
    browser: Browser | None = None
    device: Device | None = None
    search_query: str | None = None
    ip_organization: str | None = None
    geolocation: Geolocation | None = None
    mkt_campaign: Campaign | None = None
    session: ResponseSession
    referrer: Referrer | None = None
    attributes: dict[str, CustomEventAttribute]
    traits: dict[str, CustomEventAttribute]
    authenticated: bool
    external_id: str | None = None
    created_date: GDate


class AppEventResponse(Out):
    id: str
    customer_id: str
    customer_id_type: str
    event_name: str
    screen_name: str
    app: App
    device: Device
    ip_organization: str | None = None
    geolocation: Geolocation | None = None
    sdk_library: SdkLibrary | None = None
    network_connectivity: NetworkConnectivity | None = None
    mkt_campaign: Campaign | None = None
    session: ResponseSession
    search_query: str | None = None
    attributes: dict[str, CustomEventAttribute]
    traits: dict[str, CustomEventAttribute]
    external_id: str | None = None
    created_date: GDate
