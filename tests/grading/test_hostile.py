"""Hostile notebooks: each ends with a clear graded result or a clear error, nothing is lost, and the grader
(here in-process; test_queue.py does it through a real worker) keeps working for the next submission."""
from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import pytest

from tests.fixtures.grading import SOLUTION, with_answer

pytestmark = [pytest.mark.slow, pytest.mark.bwrap]

WRONG = "def availability(p, d):\n    return 0.5\n\ndef oee(*a):\n    return 0.5\n"


@pytest.fixture
def tight_lab(app, grading_lab):
    """Short limits so endless cells cost seconds, not minutes."""
    from grading.models import Lab
    from lms.extensions import db

    with app.app_context():
        lab = db.session.get(Lab, grading_lab)
        lab.time_limit_s, lab.memory_mb = 6, 256
        db.session.commit()
    return grading_lab


def _text(state) -> str:
    return "\n".join(o["text"] for c in state["feedback"] for o in c.get("outputs", [])) + "\n".join(
        state["messages"])


def _not_a_notebook(app, tmp):
    return b"this is { not json"


def _json_not_notebook(app, tmp):
    return json.dumps({"hello": "world"}).encode()


def _wrong_nbformat(app, tmp):
    return json.dumps({"nbformat": 3, "nbformat_minor": 0, "cells": [], "metadata": {}}).encode()


def _damaged(app, tmp):
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                       "cells": [{"cell_type": "code", "metadata": {}}]}).encode()


def _other_lab(app, tmp):
    cell = {"cell_type": "code", "source": "x = 1", "metadata": {"nbgrader": {"grade_id": "q1", "grade": False,
            "solution": True, "locked": False, "schema_version": 3, "task": False}}, "outputs": [],
            "execution_count": None, "id": "a1"}
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}).encode()


REJECTED = [
    ("not-json", _not_a_notebook, "not valid JSON"),
    ("json-not-notebook", _json_not_notebook, "not a Jupyter notebook"),
    ("wrong-nbformat", _wrong_nbformat, "format 3 is not supported"),
    ("damaged-notebook", _damaged, "damaged"),
    ("notebook-of-another-lab", _other_lab, "not from the lab"),
]


@pytest.mark.parametrize("name,build,message", REJECTED, ids=[r[0] for r in REJECTED])
def test_unusable_files_are_kept_and_rejected_clearly(app, grading_trainee, grading_run, grading_state, tmp_path,
                                                      name, build, message):
    content = build(app, tmp_path)
    sid, status = grading_run(grading_trainee, content)
    state = grading_state(sid)
    assert status == "error" and message in state["error"]
    stored = Path(app.config["GRADING_DIR"]) / "submissions" / state["path"]
    assert stored.read_bytes() == content and state["sha256"] == hashlib.sha256(content).hexdigest()


def test_over_the_size_limit_is_refused_before_storing(app, grading_trainee, grading_run):
    from grading.models import Submission
    from lms.core.exceptions import UserError
    from lms.extensions import db

    big = with_answer(app, SOLUTION + "#" + "x" * app.config["GRADING_MAX_UPLOAD_BYTES"])
    with pytest.raises(UserError, match="limit"):
        grading_run(grading_trainee, big)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0


def _listening_port():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    return server


# name, answer cell source (format keys: grading_dir, instance, port, other), check(state)
GRADED = {
    "infinite-loop": (SOLUTION + "while True:\n    pass\n",
                      lambda s: s["score"] == 0 and "time limit of 6 s" in _text(s)),
    "sleep-past-limit": (SOLUTION + "import time\ntime.sleep(600)\n",
                         lambda s: s["score"] == 0 and "time limit" in _text(s)),
    "ignores-interrupts": (SOLUTION + "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                           "while True:\n    pass\n", lambda s: s["score"] == 0 and "time limit" in _text(s)),
    "fork-bomb": (SOLUTION + "import os, time\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
                  "            time.sleep(30)\n            os._exit(0)\n        n += 1\n"
                  "except OSError as e:\n    print('fork refused after', n, type(e).__name__)\n",
                  lambda s: "fork refused after" in _text(s) and s["score"] == 5),
    "memory-hog": (SOLUTION + "hog = bytearray(2 * 1024 ** 3)\n",
                   lambda s: "MemoryError" in _text(s) and s["score"] == 5),
    "huge-output": (SOLUTION + "for i in range(30):\n    print('y' * 1_000_000)\n",
                    lambda s: "truncated" in _text(s) and len(json.dumps(s["feedback"])) < 200_000),
    "network": (SOLUTION + "import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                "    print('CONNECTED')\nexcept OSError as e:\n    print('blocked', type(e).__name__)\n"
                "try:\n    socket.create_connection(('1.1.1.1', 80), timeout=2)\n    print('CONNECTED')\n"
                "except OSError as e:\n    print('blocked', type(e).__name__)\n",
                lambda s: "CONNECTED" not in _text(s) and _text(s).count("blocked") == 2 and s["score"] == 5),
    "read-etc": (SOLUTION + "print(open('/etc/passwd').read())\ntry:\n    print(open('/etc/shadow').read())\n"
                 "except OSError as e:\n    print('no shadow', type(e).__name__)\n",
                 lambda s: "daemon:" not in _text(s) and "no shadow" in _text(s)),
    "read-gradebook-and-secrets": (
        SOLUTION + "import os\nfor p in ['{grading_dir}/courses/grading-sample/gradebook.db', '{instance}',\n"
        "          '{grading_dir}/courses/grading-sample/source/oee-shift/oee-shift.ipynb']:\n"
        "    print(p, os.path.exists(p))\nprint('ENV', sorted(os.environ))\n",
        lambda s: " True" not in _text(s) and "SECRET" not in _text(s) and "DATABASE" not in _text(s)),
    "read-other-submissions": (SOLUTION + "import os\nprint('other', os.path.exists('{other}'))\n",
                               lambda s: "other False" in _text(s)),
    "search-hidden-tests": (
        SOLUTION + "import os, sys\nskip = ('/proc', '/sys', '/dev', '/usr', sys.base_prefix, sys.prefix)\n"
        "found = []\nfor root, dirs, files in os.walk('/'):\n    if root.startswith(skip):\n        dirs[:] = []\n"
        "        continue\n    for f in files:\n        try:\n"
        "            if b'_expected' in open(os.path.join(root, f), 'rb').read():\n"
        "                found.append(os.path.join(root, f))\n        except OSError:\n            pass\n"
        "print('FOUND', found)\n", lambda s: "FOUND []" in _text(s)),
    "write-outside-own-dir": (
        SOLUTION + "for p in ['/usr/evil', '/etc/evil', '/evil', '{grading_dir}/evil']:\n    try:\n"
        "        open(p, 'w').write('x')\n        print('WROTE', p)\n    except OSError as e:\n"
        "        print('refused', p)\nopen('mine.txt', 'w').write('ok')\nprint('own dir ok')\n",
        lambda s: "WROTE" not in _text(s) and "own dir ok" in _text(s)),
    "monkeypatch-builtins": (WRONG + "import builtins, math\nbuiltins.abs = lambda x: 0\n"
                             "math.isclose = lambda *a, **k: True\n",
                             lambda s: s["score"] == 0 and "time limit" not in _text(s)
                             and "availability(480, 48) should be 0.9" in _text(s)),
    "monkeypatch-type": (WRONG + "import builtins\nbuiltins.type = lambda *a: float\n",
                         lambda s: s["score"] == 0),
    "always-equal-object": ("class Sneaky(float):\n    def __eq__(self, other):\n        return True\n"
                            "    __hash__ = float.__hash__\n\ndef availability(p, d):\n    return Sneaky(0.1)\n\n"
                            "def oee(*a):\n    return Sneaky(0.1)\n", lambda s: s["score"] == 0),
    "hide-tracebacks": (WRONG + "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n"
                        "import sys\nsys.excepthook = lambda *a: None\n", lambda s: s["score"] == 0),
    "kernel-exit": (SOLUTION + "import os\nos._exit(3)\n",
                    lambda s: s["score"] == 0 and "exited with status 3" in _text(s)),
    "kernel-segfault": (SOLUTION + "import ctypes\nctypes.string_at(0)\n",
                        lambda s: s["score"] == 0 and "Python kernel stopped" in _text(s)),
    "non-utf8-output": (SOLUTION + "import os, sys\nos.write(1, b'\\xff\\xfe raw bytes\\n')\n"
                        "sys.stdout.write('lone surrogate \\udcff\\n')\nprint('after')\n",
                        lambda s: s["score"] == 5 or "after" in _text(s)),
}
EDITED = {
    "edit-test-cells": ({"test-availability": "pass", "test-oee": "pass"}, WRONG, lambda s: s["score"] == 0),
    "delete-test-cells": ({"test-oee": None}, SOLUTION,
                          lambda s: s["score"] == 2 and s["cells"]["test-oee"]["score"] == 0),
}


@pytest.mark.parametrize("name", sorted(GRADED))
def test_hostile_code_ends_with_a_clear_graded_result(app, tight_lab, grading_trainee, grading_run, grading_state,
                                                       make_user, grading_enrol, name):
    from grading.operations import store_file

    source, check = GRADED[name]
    server = _listening_port()
    try:
        with app.app_context():
            _sha, other = store_file(b'{"other": "trainee"}')
        answer = source.format(port=server.getsockname()[1], grading_dir=app.config["GRADING_DIR"],
                               instance=app.instance_path,
                               other=Path(app.config["GRADING_DIR"]) / "submissions" / other)
        sid, status = grading_run(grading_trainee, with_answer(app, answer))
    finally:
        server.close()
    state = grading_state(sid)
    assert status == "graded", state["error"]
    assert check(state), (state["score"], state["messages"], _text(state)[-1500:])


@pytest.mark.parametrize("name", sorted(EDITED))
def test_edited_or_deleted_tests_are_restored(app, tight_lab, grading_trainee, grading_run, grading_state, name):
    edits, answer, check = EDITED[name]
    sid, status = grading_run(grading_trainee, with_answer(app, answer, extra=edits))
    state = grading_state(sid)
    assert status == "graded", state["error"]
    assert check(state), state["cells"]


def test_grader_still_grades_normally_afterwards(app, tight_lab, grading_trainee, grading_run, grading_state):
    bad = grading_run(grading_trainee, with_answer(app, SOLUTION + "import os\nos._exit(1)\n"))[0]
    good = grading_run(grading_trainee, with_answer(app, SOLUTION))[0]
    assert grading_state(bad)["score"] == 0
    assert grading_state(good)["score"] == 5
