"""Marshmallow schemas: the request and response shapes published in /api/v1/openapi.json."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class _Out(Schema):
    """Response schemas only dump; ordering follows declaration."""


class CourseSummarySchema(_Out):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    summary = fields.String()
    level = fields.String(metadata={"description": "beginner | intermediate | advanced"})
    hours = fields.Float()
    prerequisites = fields.List(fields.String(), metadata={"description": "Slugs of courses to finish first"})
    url = fields.String(metadata={"description": "Course page in the web application"})


class LessonSchema(_Out):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    minutes = fields.Integer()


class QuizSummarySchema(_Out):
    id = fields.Integer(required=True, metadata={"description": "Use with /quizzes/{quiz_id}/attempts"})
    slug = fields.String(required=True)
    title = fields.String(required=True)
    questions_per_attempt = fields.Integer()
    attempt_limit = fields.Integer(allow_none=True, metadata={"description": "null: unlimited"})
    pass_mark = fields.Float(metadata={"description": "Percent needed to pass"})
    time_limit_minutes = fields.Integer(allow_none=True)


class ModuleSchema(_Out):
    slug = fields.String(required=True)
    title = fields.String(required=True)
    summary = fields.String()
    prerequisites = fields.List(fields.String(), metadata={"description": "Module slugs to finish first"})
    lessons = fields.List(fields.Nested(LessonSchema))
    quizzes = fields.List(fields.Nested(QuizSummarySchema))
    labs = fields.List(fields.String())


class CourseDetailSchema(CourseSummarySchema):
    modules = fields.List(fields.Nested(ModuleSchema))


class EnrolRequestSchema(Schema):
    course = fields.String(required=True, validate=validate.Length(min=1, max=80),
                           metadata={"description": "Slug of the course to enrol in"})


class EnrolmentSchema(_Out):
    course = fields.String(required=True, metadata={"description": "Course slug"})
    title = fields.String()
    status = fields.String(metadata={"description": "active | completed | withdrawn"})
    enrolled_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)


class StaffEnrolmentSchema(EnrolmentSchema):
    user_id = fields.Integer()
    name = fields.String()
    email = fields.String()
    percent = fields.Float(allow_none=True, metadata={"description": "Overall progress in percent"})


class QuizResultSchema(_Out):
    quiz_id = fields.Integer()
    slug = fields.String()
    title = fields.String()
    best_percent = fields.Float(allow_none=True, metadata={"description": "null: not tried yet"})
    passed = fields.Boolean()
    attempts = fields.Integer()


class ModuleProgressSchema(_Out):
    slug = fields.String()
    done = fields.Boolean()
    unlocked = fields.Boolean()
    missing = fields.List(fields.String(), metadata={"description": "Prerequisite modules not done yet"})


class ProgressSchema(_Out):
    course = fields.String(required=True, metadata={"description": "Course slug"})
    title = fields.String()
    enrolled = fields.Boolean()
    status = fields.String(allow_none=True, metadata={"description": "Enrolment status; null if never enrolled"})
    percent = fields.Float(metadata={"description": "Share of the completion criteria met, in percent"})
    completed_at = fields.DateTime(allow_none=True)
    lessons_done = fields.Integer()
    lessons_total = fields.Integer()
    quizzes_passed = fields.Integer()
    quizzes_total = fields.Integer()
    labs_passed = fields.Integer()
    labs_total = fields.Integer()
    modules = fields.List(fields.Nested(ModuleProgressSchema))
    quizzes = fields.List(fields.Nested(QuizResultSchema))


class QuestionSchema(_Out):
    id = fields.Integer(required=True, metadata={"description": "Key in the `answers` object when submitting"})
    kind = fields.String(metadata={"description": "single | multiple | numeric | text"})
    prompt = fields.String()
    options = fields.List(fields.String(), metadata={"description": "For single/multiple: answer with indexes"})
    points = fields.Float()


class QuestionResultSchema(QuestionSchema):
    given = fields.Raw(allow_none=True, metadata={"description": "The answer as recorded"})
    correct = fields.Boolean()
    points_awarded = fields.Float()
    explanation = fields.String()


class AttemptSummarySchema(_Out):
    id = fields.Integer(required=True)
    quiz_id = fields.Integer()
    status = fields.String(metadata={"description": "open | submitted | expired"})
    started_at = fields.DateTime()
    deadline = fields.DateTime(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    score = fields.Float(allow_none=True)
    max_score = fields.Float(allow_none=True)
    percent = fields.Float(allow_none=True)
    passed = fields.Boolean(allow_none=True)


class AttemptSchema(AttemptSummarySchema):
    seconds_left = fields.Integer(allow_none=True, metadata={"description": "Open attempts with a time limit"})
    questions = fields.List(fields.Nested(QuestionSchema),
                            metadata={"description": "Open attempt: the drawn questions, never the answers"})
    results = fields.List(fields.Nested(QuestionResultSchema),
                          metadata={"description": "Closed attempt: per-question outcome and explanation"})


class SubmitRequestSchema(Schema):
    answers = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^\d{1,12}$", error="Question ids are whole numbers.")),
        values=fields.Raw(allow_none=True), required=True,
        metadata={"description": "Question id -> answer: option index (single), list of indexes (multiple), "
                                 "number or numeric string (numeric), string (text); null or absent = unanswered"})
