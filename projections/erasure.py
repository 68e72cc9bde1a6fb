"""The `erasure` projection: when a person is erased (`Mentor.Erased`,
`Mentee.Erased`), the rows of the other projections that held their personal data
in the clear are scrubbed. (The equity counts are the `equity` projection's: an
erased mentee's place there is taken by an anonymous record, projections.equity.)

Events read after the erasure already show the person as erased (their key is
gone: services.keys), so this only reaches rows written before it:
- `reporting.mentor_profiles`: name, email and interests;
- `reporting.relationship_pauses`: the reasons of the pauses of their pairs;
- `reporting.relationships`: their pairs' match rationales (which quote the
  mentee's interests and objectives).
"""

from collections.abc import Sequence
from typing import Any

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
