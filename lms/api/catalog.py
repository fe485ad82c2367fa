"""Courses: the public catalog and course outlines, my progress in a course, and a course's roster for staff."""
from __future__ import annotations

from typing import Any

from flask import abort, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..core.page_cache import shared_page
from ..extensions import db
from ..learning import queries as learning
from ..models import Course, Role, User
from .auth import SECURITY_SCHEME, ApiBlueprint, api_user, optional_user
from .progress import progress_entry
from .schemas import CourseDetailSchema, CourseSummarySchema, ProgressSchema, StaffEnrolmentSchema

blp = ApiBlueprint("api-catalog", __name__, url_prefix="/api/v1",
                   description="Course catalog (public), course outlines, progress and rosters")

PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
OPTIONAL_AUTH = [{}, {SECURITY_SCHEME: []}]  # anonymous, or a token (staff then also see retired courses)


def visible_course(slug: str, user: User | None) -> Course:
    """Same rule as the web pages: unknown → 404; a retired course only for staff and its enrolled trainees."""
    course = learning.course_by_slug(slug)
    if course is None:
        abort(404, _("No course with slug %(slug)s.", slug=repr(slug)))
    if course.archived and not (user is not None and (user.is_staff or learning.is_enrolled(user.id, slug))):
        abort(404, _("No course with slug %(slug)s.", slug=repr(slug)))
    return course


def _summary(course: Course) -> dict[str, Any]:
    return {"slug": course.slug, "title": learning.tr(course, "title"), "summary": learning.tr(course, "summary"),
            "level": course.level, "hours": course.hours, "prerequisites": list(course.prerequisites or []),
            "url": url_for("learning.course", slug=course.slug)}


def _outline(course: Course) -> dict[str, Any]:
    modules = []
    for module in learning.active_modules(course):
        modules.append({
            "slug": module.slug, "title": learning.tr(module, "title"), "summary": learning.tr(module, "summary"),
            "prerequisites": list(module.prerequisites or []), "labs": list(module.labs or []),
            "lessons": [{"slug": lesson.slug, "title": learning.tr(lesson, "title"), "minutes": lesson.minutes}
                        for lesson in learning.active_lessons(module)],
            "quizzes": [{"id": quiz.id, "slug": quiz.slug, "title": learning.tr(quiz, "title"),
                         "questions_per_attempt": quiz.draw_count, "attempt_limit": quiz.attempt_limit,
                         "pass_mark": quiz.pass_mark, "time_limit_minutes": quiz.time_limit_minutes}
                        for quiz in learning.active_quizzes(module)]})
    return {**_summary(course), "modules": modules}


def _page(items: list, pagination_parameters) -> list:
    pagination_parameters.item_count = len(items)
    return items[pagination_parameters.first_item:pagination_parameters.last_item + 1]


@blp.route("/courses", methods=["GET"])
@shared_page
@blp.doc(security=OPTIONAL_AUTH)
@blp.response(200, CourseSummarySchema(many=True))
@blp.alt_response(401, response="UNAUTHORIZED", description="A token was sent and is not valid")
@blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_courses(pagination_parameters):
    """The course catalog. Public; with a staff token, retired courses are listed too."""
    user = optional_user()
    courses = learning.catalog(include_archived=bool(user and user.is_staff))
    return [_summary(c) for c in _page(courses, pagination_parameters)]


@blp.route("/courses/<slug>", methods=["GET"])
@shared_page
@blp.doc(security=OPTIONAL_AUTH)
@blp.response(200, CourseDetailSchema)
@blp.alt_response(401, response="UNAUTHORIZED", description="A token was sent and is not valid")
@blp.alt_response(404, response="NOT_FOUND")
def get_course(slug: str):
    """A course outline: modules in order with their lessons' titles, quizzes and labs. Public."""
    return _outline(visible_course(slug, optional_user()))


@blp.route("/courses/<slug>/progress", methods=["GET"])
@blp.auth_required()
@blp.response(200, ProgressSchema)
@blp.alt_response(404, response="NOT_FOUND")
def course_progress(slug: str):
    """My progress in one course (enrolled: false if I am not enrolled)."""
    user = api_user()
    return progress_entry(user.id, visible_course(slug, user))


@blp.route("/courses/<slug>/enrolments", methods=["GET"])
@blp.auth_required(Role.INSTRUCTOR, Role.ADMIN)
@blp.response(200, StaffEnrolmentSchema(many=True))
@blp.alt_response(404, response="NOT_FOUND")
@blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def course_enrolments(slug: str, pagination_parameters):
    """Trainees enrolled in a course with their progress. Instructors and admins only."""
    course = visible_course(slug, api_user())
    user_ids = _page(learning.enrolled_user_ids(course.id), pagination_parameters)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    rows = []
    for user_id in user_ids:
        enrolment = learning.enrolment_for(user_id, course.id)
        progress = learning.course_progress(user_id, course)
        rows.append({"user_id": user_id, "name": users[user_id].name, "email": users[user_id].email,
                     "course": course.slug, "title": learning.tr(course, "title"), "status": enrolment.status,
                     "enrolled_at": enrolment.enrolled_at, "completed_at": enrolment.completed_at,
                     "percent": progress["percent"]})
    return rows

