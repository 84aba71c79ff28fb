"""The retention API: GET and PUT /api/v1/retention (admin scope), an organization's retention periods.
A change is recorded in the audit trail (`retention.changed`); the purge worker applies the periods."""

from fastapi import APIRouter

from sessionary.api.syllable import error_responses
from sessionary.audit.deps import AdminActor
from sessionary.lifecycle import policy
from sessionary.lifecycle.retention_schemas import RetentionRead, RetentionUpdate
from sessionary.tenancy.deps import DB, Admin, WriteDB

router = APIRouter(prefix="/api/v1/retention", tags=["retention"])


@router.get("", response_model=RetentionRead, operation_id="retention_get", responses=error_responses())
def retention_get(principal: Admin, db: DB) -> RetentionRead:
    """The organization's retention periods (null: kept forever)."""
    return RetentionRead.of(policy.policy_of(db, organization_id=principal.organization_id))


@router.put(
    "", response_model=RetentionRead, operation_id="retention_set", responses=error_responses(400, 422)
)
def retention_set(actor: AdminActor, body: RetentionUpdate, db: WriteDB) -> RetentionRead:
    """Set the organization's retention periods (both; null keeps forever); recorded in the audit trail.
    The purge worker deletes what is past them within SESSIONARY_PURGE_POLL_SECONDS."""
    return RetentionRead.of(
        policy.set_policy(
            db,
            actor=actor,
            retention_days=body.retention_days,
            content_retention_days=body.content_retention_days,
        )
    )
