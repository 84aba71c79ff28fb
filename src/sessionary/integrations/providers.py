"""The voice platforms sessionary takes webhooks from, and where each keeps its recordings."""

from __future__ import annotations

from typing import Literal, get_args

Provider = Literal["twilio", "vapi", "retell"]
PROVIDERS: tuple[str, ...] = get_args(Provider)

# Hosts a recording URL (and every redirect it takes) may point at, per provider, by default; more are
# allowed by SESSIONARY_RECORDING_FETCH_HOSTS. `*.` matches any subdomain. From the providers' documented
# recording URLs: Twilio serves media from api.twilio.com (redirecting to its storage), Vapi from
# storage.vapi.ai, Retell from its CloudFront/S3 storage.
RECORDING_HOSTS: dict[str, tuple[str, ...]] = {
    "twilio": ("api.twilio.com", "*.twilio.com", "*.twiliocdn.com", "*.amazonaws.com"),
    "vapi": ("storage.vapi.ai", "*.vapi.ai"),
    "retell": ("*.retellai.com", "*.cloudfront.net", "*.amazonaws.com"),
}
