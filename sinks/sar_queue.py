"""The SAR review queue: each SAR's triage written to the SAR review store (a new SAR whole, a
known one its new score), so reviewers find it, highest first. Idempotent: the same triage
written twice leaves the row as once."""

from __future__ import annotations

from pydantic import Field

from argus.contracts import Context, NodeConfig, Sink
from argus.records import Record
from argus.security.policy import Marking
from argus.stores.sar_reviews import SarCase, SarReviewStore
from argus.workflows.sar_model import SLA_MINUTES, due


class SarQueueConfig(NodeConfig):
    """The review's settings, read by the review service (argus/workflows/sar_review.py) too."""

    fusion_centre: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}[A-Z0-9]{7}$",
        description="The ORI of the fusion centre that vets SARs: SARs submitted through Argus name it as a "
                    "recipient, and public tips are its records",
    )  # fmt: skip
    sla_minutes: dict[str, int] = Field(
        default=dict(SLA_MINUTES), description="How long a SAR of each priority may wait at each review step"
    )


class SarQueueSink(Sink):
    Config = SarQueueConfig
    config: SarQueueConfig
    accepts = ("sar_triage.v1",)
    stores = ("sar_reviews",)
    changes_input = False  # reads what it is handed, shares it (argus/runtime/decoded.py)

    def setup(self, ctx: Context) -> None:
        self._store: SarReviewStore = ctx.stores["sar_reviews"]
        self._pending: list[SarCase] = []

    def add(self, record: Record) -> None:
        env, b = record.envelope, record.body
        received = env["ingested_at"]
        self._pending.append(
            SarCase(
                id=b["sar"],
                sar_id=b["sar_id"],
                marking=Marking.from_envelope(env),
                behavior=b["behavior"],
                occurred_at=b["occurred_at"],
                received_at=received,
                narrative=b["narrative"],
                submitted_by=b["submitted_by"],
                place=b["place"],
                lat=b["lat"],
                lon=b["lon"],
                site_category=b["site_category"],
                triage_score=b["score"],
                triage_reasons=b["reasons"],
                priority=b["priority"],
                due_at=due(received, b["priority"], self.config.sla_minutes),
                updated_at=received,
            )
        )

    def flush(self) -> None:
        for case in self._pending:
            self._store.triaged(case)
        self._pending.clear()
