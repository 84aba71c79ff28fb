"""The /api/v2 ingest responses (WebEventResponse, AppEventResponse), held to the official Genesys
clients' models like the rest of journey.wire."""

from __future__ import annotations

from pydantic import Field

from sessionary.journey.wire.responses import (
    App,
    Campaign,
    CustomEventAttribute,
    Device,
    GDate,
    Geolocation,
    NetworkConnectivity,
    Out,
    Referrer,
    ResponsePage,
    SdkLibrary,
    WebEventBrowser,
    WebEventDevice,
)


class _ResponseSession(Out):
    id: str
    duration_in_seconds: int
    event_count: int
    referrer: Referrer | None = None
    self_uri: str
    created_date: GDate


class WebEventResponseSession(_ResponseSession):
    pageview_count: int


class AppEventResponseSession(_ResponseSession):
    screenview_count: int


class WebEventResponse(Out):
    customer_id: str
    event_name: str
    customer_id_type: str
    page: ResponsePage
    user_agent_string: str = ""
    browser: WebEventBrowser = Field(default_factory=WebEventBrowser)
    device: WebEventDevice = Field(default_factory=WebEventDevice)
    search_query: str | None = None
    ip_organization: str | None = None
    geolocation: Geolocation | None = None
    mkt_campaign: Campaign | None = None
    session: WebEventResponseSession
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
    session: AppEventResponseSession
    search_query: str | None = None
    attributes: dict[str, CustomEventAttribute]
    traits: dict[str, CustomEventAttribute]
    external_id: str | None = None
    created_date: GDate
