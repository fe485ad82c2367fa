"""Submit this lab for grading from inside JupyterLab: `%submit` in a notebook, `nia-submit` in a terminal.

Standard library only: the hub copies this file into every lab server (Docker images included, which lack our
packages) and loads it into each kernel through an IPython startup file (see hooks.stage_lab_tools).

It authenticates with the server's own JUPYTERHUB_API_TOKEN (already in the lab's environment; the LMS checks it
with the hub and maps it back to the trainee), so no other secret is needed and nobody can submit for someone else.
The LMS fetches the *saved* notebook through the contents API, queues it, and this command prints the submission,
then the grade when it is ready, with the link to the feedback page. Every message comes from the LMS (translated);
only "cannot reach the LMS" is worded here.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

DEFAULT_TIMEOUT = 180  # seconds to wait for the grade before leaving it to the feedback page
POLL_EVERY = 2.0


class SubmitFailed(Exception):
    """The LMS refused or could not be reached; the message says why (shown to the trainee as is)."""


def _call(method: str, url: str, token: str, server: str) -> dict:
    headers = {"Authorization": f"token {token}", "Accept": "application/json", "X-NIA-Lab-Server": server}
    request = urllib.request.Request(url, method=method, headers=headers, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            body = json.loads(error.read() or b"{}")
        except ValueError:
            body = {}
        message = body.get("title") or body.get("detail") or f"HTTP {error.code}"
        retry = error.headers.get("Retry-After") if error.headers else None
        raise SubmitFailed(message + (f" (Retry-After: {retry} s)" if retry else "")) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise SubmitFailed(f"NI Academy could not be reached at {url.split('/launch/')[0]}: {reason}") from None


def _settings(env=os.environ) -> tuple[str, str, str]:
    lms, token = env.get("NIA_LMS_URL", "").rstrip("/"), env.get("JUPYTERHUB_API_TOKEN", "")
    if not lms or not token:
        raise SubmitFailed("This is not an NI Academy lab server (NIA_LMS_URL / JUPYTERHUB_API_TOKEN missing). "
                           "Open the lab from NI Academy and run the command there.")
    return lms, token, env.get("JUPYTERHUB_SERVER_NAME", "")


def submit(wait: bool = True, timeout: float = DEFAULT_TIMEOUT, out=print, env=os.environ) -> dict:
    """Ask the LMS to grade this lab; with `wait`, poll until graded or `timeout`. Returns the last status."""
    lms, token, server = _settings(env)
    receipt = _call("POST", f"{lms}/launch/_lab/submit", token, server)
    out(receipt.get("message") or f"Submission {receipt.get('submission_id')}: {receipt.get('status')}")
    status = {"status": receipt.get("status"), "final": False, "url": receipt.get("url")}
    last_message = None
    deadline = time.monotonic() + max(0.0, timeout)
    while wait and time.monotonic() < deadline:
        status = _call("GET", receipt["status_url"], token, server)
        if status.get("message") != last_message:
            last_message = status.get("message")
            out(last_message)
        if status.get("final"):
            break
        time.sleep(POLL_EVERY)
    if status.get("url"):
        out(f"Feedback: {status['url']}")
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nia-submit", description="Submit this NI Academy lab for grading.")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for the grade")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for the grade")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        status = submit(wait=not args.no_wait, timeout=args.timeout)
    except SubmitFailed as error:
        print(f"Not submitted: {error}", file=sys.stderr)
        return 1
    return 0 if status.get("status") not in ("error", "failed") else 2


def load_ipython_extension(ipython) -> None:
    """`%submit [--no-wait] [--timeout S]` in the lab's notebooks (save the notebook first)."""
    import shlex

    def submit_magic(line: str = ""):
        try:
            args = _parser().parse_args(shlex.split(line))
        except SystemExit:  # argparse already printed the usage
            return None
        try:
            submit(wait=not args.no_wait, timeout=args.timeout)
        except SubmitFailed as error:
            print(f"Not submitted: {error}", file=sys.stderr)
        return None

    submit_magic.__doc__ = load_ipython_extension.__doc__
    ipython.register_magic_function(submit_magic, "line", "submit")


if __name__ == "__main__":
    sys.exit(main())
