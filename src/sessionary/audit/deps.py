"""The audit actor of an admin request: its key and the client's address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from sessionary.audit.service import Actor
from sessionary.tenancy.deps import Admin, client_ip_of


def admin_actor(request: Request, principal: Admin) -> Actor:
    """The caller (admin scope) as the audit trail records it."""
    return Actor.of(principal, client_ip_of(request))


AdminActor = Annotated[Actor, Depends(admin_actor, scope="function")]
