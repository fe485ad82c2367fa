"""Kernel execution over the Jupyter WebSocket protocol and SSE reading, for the real-hub tests."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import requests
import websocket


def run_in_kernel(base_url: str, headers: dict, code: str, timeout: float = 60) -> str:
    """Start a kernel in the server at base_url (…/user/<u>/<server>), run `code`, return its stdout."""
    kernel = requests.post(f"{base_url}/api/kernels", headers=headers, json={"name": "python3"}, timeout=30)
    assert kernel.status_code == 201, kernel.text[:300]
    kernel_id = kernel.json()["id"]
    ws_url = base_url.replace("http://", "ws://", 1) + f"/api/kernels/{kernel_id}/channels"
    sock = websocket.create_connection(ws_url, header=[f"{k}: {v}" for k, v in headers.items()], timeout=timeout)
    try:
        msg_id = uuid.uuid4().hex
        sock.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3",
                       "date": datetime.now(timezone.utc).isoformat()},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        output = ""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(sock.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "stream":
                output += message["content"]["text"]
            elif kind == "error":
                raise AssertionError("kernel error: " + "\n".join(message["content"]["traceback"]))
            elif kind == "status" and message["content"]["execution_state"] == "idle":
                return output
        raise AssertionError("kernel did not finish in time")
    finally:
        sock.close()
        requests.delete(f"{base_url}/api/kernels/{kernel_id}", headers=headers, timeout=30)


def sse_events(response: requests.Response, timeout: float = 90):
    """Yield the JSON data of each Server-Sent Event (named events as {'event': name, **data})."""
    event_name = None
    deadline = time.monotonic() + timeout
    for line in response.iter_lines(decode_unicode=True):
        if time.monotonic() > deadline:
            raise AssertionError("progress stream did not finish in time")
        if line.startswith("event:"):
            event_name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data = json.loads(line.split(":", 1)[1])
            if event_name:
                data = {"event": event_name, **data}
            event_name = None
            yield data


def run_in_terminal(base_url: str, headers: dict, command: str, expect: str, timeout: float = 60) -> str:
    """Open a JupyterLab terminal in the server at base_url, type `command`, return the output once it shows
    `expect` (a regex; the echoed command line is not searched)."""
    import re

    created = requests.post(f"{base_url}/api/terminals", headers=headers, timeout=30)
    assert created.status_code == 200, created.text[:300]
    name = created.json()["name"]
    ws_url = base_url.replace("http://", "ws://", 1) + f"/terminals/websocket/{name}"
    sock = websocket.create_connection(ws_url, header=[f"{k}: {v}" for k, v in headers.items()], timeout=timeout)
    output = ""
    try:
        sock.send(json.dumps(["stdin", command + "\r"]))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(sock.recv())
            if message[0] == "stdout":
                output += message[1]
                after_echo = output.split(command, 1)[-1]
                if re.search(expect, after_echo):
                    return output
        raise AssertionError(f"terminal never showed {expect!r}; output:\n{output[-2000:]}")
    finally:
        sock.close()
        requests.delete(f"{base_url}/api/terminals/{name}", headers=headers, timeout=30)
