"""Lab launch: click "Open lab" in the LMS -> notebook ready, as a ratio to a bare hub spawn in the same run.

`python -m benchmarks.launch [--rounds N]`. Starts the LMS (threaded WSGI server) and a real JupyterHub with the
configurable-http-proxy on free loopback ports, in a temporary state directory. Each round alternates:
  baseline: POST /hub/api/users/<u>/server (default server, no LMS involved), the hub's progress stream until
            ready, then /user/<u>/api/status answers through the proxy;
  launch:   LMS POST /launch/<course>/<lab> + the LMS progress stream until ready + the lab notebook answers
            through the contents API (SSO user, pre_spawn_hook lab spec call and file staging included).
The lab is the test lab spec of tests/fixtures/oidc.py (a one-cell notebook); goal: ratio <= 1.2.
Unless --no-line, our own MQTT broker (mosquitto when installed) and the simulator service run on free ports too,
so each click also starts the trainee's line and registers the trainee's MQTT credentials, as in production.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests


def _wait_ok(url: str, headers: dict, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, headers=headers, timeout=10).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not ready in {timeout}s")


def _baseline(stack, name: str) -> float:
    assert stack.hub_api("POST", f"/users/{name}").status_code in (201, 409)
    started = time.perf_counter()
    response = stack.hub_api("POST", f"/users/{name}/server")
    assert response.status_code in (201, 202), response.text
    from tests.hub.helpers import sse_events

    with stack.hub_api("GET", f"/users/{name}/server/progress", stream=True) as stream:
        events = list(sse_events(stream, timeout=120))
    assert events and events[-1].get("ready"), events
    _wait_ok(f"{stack.hub_url}/user/{name}/api/status", stack.service_headers)
    return time.perf_counter() - started


def _launch(stack, key: str, lab_path: str, server: str) -> float:
    from tests.hub.helpers import sse_events

    web = stack.browser(key)
    token = stack.csrf(web, lab_path)
    started = time.perf_counter()
    click = web.post(stack.lms_url + lab_path + "/launch", data={"csrf_token": token},
                     headers={"Accept": "application/json"}, timeout=60)
    assert click.status_code == 200, click.text
    with web.get(stack.lms_url + lab_path + "/progress", stream=True, timeout=120) as stream:
        events = list(sse_events(stream, timeout=120))
    assert events and events[-1].get("ready"), events
    name = f"u{stack.users[key].id}"
    _wait_ok(f"{stack.hub_url}/user/{name}/{server}/api/contents/sensor-lab.ipynb", stack.service_headers)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.launch", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--no-line", action="store_true", help="skip the broker and simulator (line start)")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="nia-bench-launch-"))
    if args.no_line:
        return _run(args, root, {})
    from tests.fixtures.virtual_lab import has_mosquitto
    from tests.hub.conftest import running_line

    with running_line(root / "lab", "mosquitto" if has_mosquitto else "embedded") as (service, _s, lab_config):
        code = _run(args, root, lab_config)
        if code == 0:
            print(f"simulator lines started by the launches: {len(service.lines())}")
        return code


def _run(args, root: Path, lab_config: dict) -> int:

    from lms.accounts.operations import hash_password
    from lms.extensions import db
    from lms.labs.queries import server_name
    from lms.models import Course, Enrolment, User
    from tests.fixtures.oidc import TEST_COURSE, TEST_LAB, build_lab_app, dispose, free_port
    from tests.hub.conftest import PASSWORD, Stack, _serve, start_hub, stop_hub

    lms_port, hub_port = free_port(), free_port()
    lms_url, hub_url = f"http://127.0.0.1:{lms_port}", f"http://127.0.0.1:{hub_port}"
    app = build_lab_app({"NIA_ENV": "testing", "SECRET_KEY": "benchmark-secret-key-0123456789",
                         "INSTANCE_DIR": str(root), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'lms.db'}",
                         "LAB_SERVICE_URL": "", **lab_config},
                        HUB_URL=hub_url, HUB_PUBLIC_URL=hub_url, HUB_STATE_DIR=str(root / "hub"),
                        OIDC_HUB_REDIRECT_URIS=[hub_url + "/hub/oauth_callback"], OIDC_ISSUER=lms_url)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = _serve(app, lms_port)
    process, failed = None, True
    try:
        process, hub_url, log = start_hub(root / "hub", lms_url, hub_port, {"NIA_HUB_ALLOW_DEFAULT_SERVER": "1"})
        stack = Stack(app, lms_url, hub_url, log)
        with app.app_context():
            course = Course(slug=TEST_COURSE, title="Benchmark course")
            db.session.add(course)
            db.session.flush()
            hashed = hash_password(PASSWORD)
            for n in range(args.rounds + 1):
                user = User(email=f"bench{n}@bench.test", name=f"Bench {n}", password_hash=hashed, role="trainee")
                db.session.add(user)
                db.session.flush()
                db.session.add(Enrolment(user_id=user.id, course_id=course.id))
                stack.users[f"t{n}"] = User(id=user.id, email=user.email)
            db.session.commit()
        lab_path, srv = f"/launch/{TEST_COURSE}/{TEST_LAB}", server_name(TEST_COURSE, TEST_LAB)
        _baseline(stack, "warmup")  # first spawn pays imports and disk cache; not counted
        load_before = os.getloadavg()[0]
        bare, ours = [], []
        for n in range(args.rounds):
            bare.append(_baseline(stack, f"bare{n}"))
            ours.append(_launch(stack, f"t{n}", lab_path, srv))
            print(f"round {n + 1}: bare hub spawn {bare[-1]:.2f} s, LMS click -> notebook ready {ours[-1]:.2f} s",
                  flush=True)
        ratio = statistics.median(ours) / statistics.median(bare)
        print(f"median bare spawn {statistics.median(bare):.2f} s; median click->ready {statistics.median(ours):.2f} s")
        print(f"ratio click->ready / bare spawn = {ratio:.2f} (goal <= 1.2)")
        # Both sides share the machine in alternating rounds, but a busy machine still widens the spread.
        print(f"load average (1 min) {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end, "
              f"on {os.cpu_count()} CPUs")
        failed = False
        return 0
    except Exception as error:  # a benchmark that cannot run says why, with the hub's last words
        print(f"benchmark failed: {error}", file=sys.stderr)
        if process is not None:
            print(Stack(app, lms_url, hub_url, root / "hub" / "hub.log").log_tail(), file=sys.stderr)
        return 1
    finally:
        if process is not None:
            stop_hub(process)
        server.shutdown()
        dispose(app)
        if not failed:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"state and hub log kept in {root}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
