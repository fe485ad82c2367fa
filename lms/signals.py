"""Blinker signals: how the LMS, grading, certificates and the lab talk without touching each other's tables.

Each signal is sent with `app` as sender (current_app._get_current_object()) and keyword arguments as documented.
"""
from blinker import Namespace

_signals = Namespace()

#: user_id, course_id — a lesson was completed, a quiz attempt passed, or a lab grade changed.
progress_changed = _signals.signal("progress-changed")
#: user_id, course_id, quiz_id, attempt_id, percent, passed
quiz_submitted = _signals.signal("quiz-submitted")
#: user_id, course_slug, lab_slug, submission_id, score, max_score, passed
lab_graded = _signals.signal("lab-graded")
#: user_id, course_id — every completion criterion of the course is met.
course_completed = _signals.signal("course-completed")
#: user_id — the user logged out of the LMS (the hub session must end too).
user_logged_out = _signals.signal("user-logged-out")
#: course_dir (Path), course (Course), session — lets other packages import their part (labs) in the same transaction.
course_imported = _signals.signal("course-imported")
