"""Auto-grading of nbgrader notebook labs: untrusted code runs only in a bubblewrap-confined kernel,
jobs go through a persistent queue (huey) and the LMS database stays the source of truth.

Importing this package has no side effects; `grading.web.init_app(app)` wires it into the LMS.
"""
