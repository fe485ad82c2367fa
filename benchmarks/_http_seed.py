"""Setup for benchmarks/http, run in its own process with the benchmark's NIA_* environment: create the schema,
import the course files through `flask courses import` (as `make run` does), create a trainee and enrol it.
Prints one JSON line with the paths to load and the trainee's credentials.

    python -m benchmarks._http_seed [COURSES_DIR]
"""
from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

from sqlalchemy import select

from benchmarks._http_app import HELLO_PATH, build_app


def _first_lesson(db):
    from lms.models import Course, Lesson, Module

    return db.session.execute(
        select(Course.slug, Lesson.slug, Course.id).join(Module, Module.course_id == Course.id)
        .join(Lesson, Lesson.module_id == Module.id)
        .where(Course.archived.is_(False), Module.archived.is_(False), Lesson.archived.is_(False))
        .order_by(Course.position, Course.id, Module.position, Lesson.position)).first()


def _enrol(user, course_id: int) -> None:
    from lms.extensions import db
    from lms.learning import operations
    from lms.models import Course

    operations.enrol(user, db.session.get(Course, course_id))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    app = build_app()
    from lms.accounts.operations import create_user
    from lms.extensions import db

    with app.app_context():
        db.create_all()
        courses = Path(argv[0]) if argv else Path(app.config["COURSES_DIR"])
        outcome = app.test_cli_runner().invoke(args=["courses", "import", str(courses)])
        if outcome.exit_code != 0:
            print(outcome.output, file=sys.stderr)
            return 1
        found = _first_lesson(db)
        if found is None:
            print(f"no lesson found after importing {courses}", file=sys.stderr)
            return 1
        course_slug, lesson_slug, course_id = found
        email, password = "bench-trainee@example.com", secrets.token_urlsafe(16)
        user = create_user(email, password, name="Benchmark Trainee")
        db.session.commit()
        _enrol(user, course_id)
        db.session.commit()
        with app.test_request_context():
            from flask import url_for

            paths = {"hello": HELLO_PATH, "login": url_for("accounts.login"),
                     "catalog": url_for("learning.catalog"),
                     "lesson": url_for("learning.lesson", slug=course_slug, lesson_slug=lesson_slug),
                     "api_catalog": url_for("api-catalog.list_courses")}
    print(json.dumps({**paths, "email": email, "password": password}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
