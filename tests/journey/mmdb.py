"""A tiny MaxMind-format database (City records with an ASN-style organization) built by mmdb-writer."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet

PARIS = "203.0.113.9"  # documentation ranges (RFC 5737)
NO_CITY = "198.51.100.7"


def build(path: Path) -> Path:
    writer = MMDBWriter(
        ip_version=4, database_type="GeoLite2-City", languages=["en"], description="sessionary test"
    )
    writer.insert_network(
        IPSet(["203.0.113.0/24"]),
        {
            "city": {"names": {"en": "Paris"}},
            "country": {"iso_code": "FR", "names": {"en": "France"}},
            "subdivisions": [{"iso_code": "IDF", "names": {"en": "Île-de-France"}}],
            "location": {"latitude": 48.8566, "longitude": 2.3522, "time_zone": "Europe/Paris"},
            "postal": {"code": "75001"},
            "autonomous_system_organization": "Example Telecom",
        },
    )
    writer.insert_network(
        IPSet(["198.51.100.0/24"]),
        {"country": {"iso_code": "US", "names": {"en": "United States"}}, "isp": "Documentation ISP"},
    )
    writer.to_db_file(str(path))
    return path
