"""All LMS tables; importing this module registers them on the metadata (for Alembic too)."""
from .api_token import ApiToken
from .audit import AuditEvent
from .course import Course, Lesson, Module
from .enrolment import Enrolment, LessonCompletion
from .login_failure import ThrottleEvent
from .quiz import Question, Quiz, QuizAttempt
from .user import Role, User

__all__ = ["ApiToken", "AuditEvent", "Course", "Enrolment", "Lesson", "LessonCompletion", "Module",
           "Question", "Quiz", "QuizAttempt", "Role", "ThrottleEvent", "User"]
