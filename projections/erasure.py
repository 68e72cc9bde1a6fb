"""The `erasure` projection: when a person is erased (`Mentor.Erased`,
`Mentee.Erased`), the rows of the other projections that held their personal data
in the clear are scrubbed, and their equity record is cut from their id.

Events read after the erasure already show the person as erased (their key is
gone: services.keys), so this only reaches rows written before it:
- `reporting.mentor_profiles`: name, email and interests;
- `reporting.relationship_pauses`: the reasons of the pauses of their pairs;
- `reporting.relationships`: their pairs' match rationales (which quote the
  mentee's interests and objectives);
- `reporting.equity_mentees` and `reporting.equity_pairs`: the mentee's id is
  replaced by a new random one, the same in both tables, so every equity count stays
  as it was while nothing links those demographics to the person any more.
"""

from collections.abc import Sequence
from typing import Any
from uuid import uuid4

from psycopg import Cursor

from domain.people import Mentee, Mentor
from domain.privacy import ERASED
from projections.events import topics
from projections.view import Positioned, ReportingProjection, ReportingView


class ErasureView(ReportingView):
    """Owns no table: it scrubs those of the other projections."""


class ErasureProjection(ReportingProjection):
    name = "erasure"
    topics = topics(Mentor.Erased, Mentee.Erased)
    view_class = ErasureView

    def project(self, curs: Cursor[Any], events: Sequence[Positioned]) -> None:
        for event, _ in events:
            person_id = event.originator_id
            curs.execute(
                "UPDATE reporting.mentor_profiles SET name = %s, email = %s, interests = '[]'"
                " WHERE mentor_id = %s",
                (ERASED, ERASED, person_id),
            )
            curs.execute(
                "DELETE FROM reporting.relationship_pauses WHERE id = ANY(%s)",
                (list(event.subject_ids),),
            )
            curs.execute(
                "UPDATE reporting.relationships SET rationale = NULL WHERE id = ANY(%s)",
                (list(event.subject_ids),),
            )
            if isinstance(event, Mentee.Erased):
                unlinked = uuid4()
                for name in ("equity_mentees", "equity_pairs"):
                    curs.execute(
                        f"UPDATE reporting.{name} SET mentee_id = %s WHERE mentee_id = %s",
                        (unlinked, person_id),
                    )
