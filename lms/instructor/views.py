"""Instructor pages; every route requires the instructor or admin role."""
from __future__ import annotations

import re

from flask import Blueprint, Response, render_template

from ..core.decorators import instructor_required
from . import queries
from .export import gradebook_csv

bp = Blueprint("instructor", __name__, url_prefix="/instructor")


@bp.get("/")
@instructor_required
def index():
    return render_template("instructor/index.html", courses=queries.courses_with_counts())


@bp.get("/courses/<slug>/gradebook")
@instructor_required
def gradebook(slug: str):
    return render_template("instructor/gradebook.html", book=queries.gradebook(queries.course_or_404(slug)))


@bp.get("/courses/<slug>/gradebook.csv")
@instructor_required
def gradebook_export(slug: str):
    book = queries.gradebook(queries.course_or_404(slug))
    filename = re.sub(r"[^A-Za-z0-9_-]", "_", book.course.slug) + "-gradebook.csv"
    return Response(gradebook_csv(book), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})
