"""The ingest request bodies: WebEventRequest and AppEventRequest (camelCase, unknown keys ignored)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from sessionary.types import UTCTimestamp, exact_json

Text = Annotated[str, Field(max_length=1000)]
Short = Annotated[str, Field(max_length=200)]
Url = Annotated[str, Field(min_length=1, max_length=4096)]
EventName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_]+$")]
DeviceCategory = Literal["desktop", "mobile", "tablet", "other"]
Count = Annotated[int, Field(ge=0, le=100_000)]


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError("not an IPv4 or IPv6 address") from None


def _as_text(value: object) -> object:
    """An attribute value is a string on the wire; numbers and booleans are taken as their text (a number
    that cannot be kept exactly is refused: see types.exact_json)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(exact_json(value))
    return value


class _In(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class CustomEventAttribute(_In):
    data_type: Annotated[str, Field(min_length=1, max_length=50)]
    value: Annotated[str, BeforeValidator(_as_text), Field(max_length=1000)]


Attributes = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=100)], CustomEventAttribute], Field(max_length=100)
]


class RequestPage(_In):
    url: Url
    title: Text | None = None
    keywords: Text | None = None
    lang: Annotated[str, Field(max_length=35)] | None = None


class WebEventBrowser(_In):
    family: Short
    version: Short
    lang: Annotated[str, Field(max_length=35)] | None = None


class RequestDevice(_In):
    category: DeviceCategory
    type: Short
    is_mobile: bool | None = None
    screen_height: Count | None = None
    screen_width: Count | None = None
    screen_density: Count | None = None
    fingerprint: Short | None = None
    os_family: Short
    os_version: Short
    manufacturer: Short | None = None


class JourneyApp(_In):
    name: Short
    namespace: Short
    version: Short
    build_number: Short


class SdkLibrary(_In):
    name: Short
    version: Short


class NetworkConnectivity(_In):
    carrier: Short | None = None
    bluetooth_enabled: bool
    cellular_enabled: bool
    wifi_enabled: bool


class _EventIn(_In):
    customer_cookie_id: Annotated[str, Field(min_length=1, max_length=200)]
    event_name: EventName
    search_query: Text | None = None
    referrer_url: Annotated[str, Field(max_length=4096)] | None = None
    attributes: Attributes | None = None
    traits: Attributes | None = None
    external_id: Short | None = None
    created_date: UTCTimestamp


class WebEventRequest(_EventIn):
    """A web event (no session id: the server finds the session)."""

    page: RequestPage
    user_agent_string: Annotated[str, Field(max_length=2000)] | None = None
    browser: WebEventBrowser | None = None
    device: RequestDevice | None = None
    ip_address: Annotated[str, AfterValidator(_ip)] | None = None


class AppEventRequest(_EventIn):
    """An app event."""

    screen_name: Annotated[str, Field(min_length=1, max_length=200)]
    app: JourneyApp
    device: RequestDevice
    sdk_library: SdkLibrary | None = None
    network_connectivity: NetworkConnectivity | None = None
