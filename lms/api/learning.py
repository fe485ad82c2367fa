"""My enrolments and my progress. Enrolment goes through lms.learning.operations.enrol: the web's rules."""
from __future__ import annotations

from typing import Any

from ..extensions import db
from ..learning import operations
from ..learning import queries as learning
from ..models import Enrolment
from .auth import ApiBlueprint, api_user
from .catalog import visible_course
from .progress import progress_entry
from .schemas import EnrolmentSchema, EnrolRequestSchema, ProgressSchema

blp = ApiBlueprint("api-learning", __name__, url_prefix="/api/v1",
                   description="Enrolments and progress of the authenticated user")


def _enrolment(enrolment: Enrolment) -> dict[str, Any]:
    return {"course": enrolment.course.slug, "title": learning.tr(enrolment.course, "title"),
            "status": enrolment.status, "enrolled_at": enrolment.enrolled_at,
            "completed_at": enrolment.completed_at}


@blp.route("/enrolments", methods=["GET"])
@blp.auth_required()
@blp.response(200, EnrolmentSchema(many=True))
def list_enrolments():
    """The courses I am enrolled in, oldest enrolment first."""
    return [_enrolment(e) for e in learning.user_enrolments(api_user().id)]


@blp.route("/enrolments", methods=["POST"])
@blp.auth_required()
@blp.arguments(EnrolRequestSchema)
@blp.response(201, EnrolmentSchema, description="Enrolled")
@blp.alt_response(200, schema=EnrolmentSchema, description="Already enrolled", success=True)
@blp.alt_response(403, response="FORBIDDEN", description="Prerequisite courses not completed")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT", description="The course is retired")
def enrol(payload: dict):
    """Enrol in a course, with the same rules as the web (prerequisite courses, retired courses)."""
    user = api_user()
    course = visible_course(payload["course"], user)
    enrolment, created = operations.enrol(user, course)
    db.session.commit()
    return _enrolment(enrolment), (201 if created else 200)


@blp.route("/progress", methods=["GET"])
@blp.auth_required()
@blp.response(200, ProgressSchema(many=True))
def my_progress():
    """My progress in every course I am enrolled in."""
    user = api_user()
    return [progress_entry(user.id, e.course) for e in learning.user_enrolments(user.id)]
