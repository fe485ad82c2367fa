"""HTTP control channel of the service (loopback, bearer token) and the `ServiceClient` the LMS uses.

POST /lines {trainee, scenario, seed, speed?, duration_s?} -> 201 line; GET /lines; GET /lines/<trainee>;
DELETE /lines/<trainee>; GET /lines/<trainee>/ground-truth; GET /healthz (no token). Errors: JSON {error}.
"""
from __future__ import annotations

import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import requests

from .service import LabService, LineError

MAX_BODY = 64 * 1024


class ServiceError(RuntimeError):
    """The service answered with an error (status and message) or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def make_server(service: LabService, host: str, port: int, token: str) -> ThreadingHTTPServer:
    if not token or len(token) < 16:
        raise ValueError("the control token must be at least 16 characters (NIA_SIM_CONTROL_TOKEN)")

    class Handler(BaseHTTPRequestHandler):
        server_version = "nia-lab/1"

        def log_message(self, *_args) -> None:  # quiet; the service logs what matters
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            given = self.headers.get("Authorization", "")
            if given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode()):
                return True
            self._send(401, {"error": "missing or wrong control token"})
            return False

        def _route(self, method: str) -> None:
            path = self.path.split("?")[0].rstrip("/")
            if method == "GET" and path == "/healthz":
                return self._send(200, {"status": "ok", "lines": len(service.lines())})
            if not self._authorised():
                return None
            parts = [unquote(p) for p in path.split("/") if p]
            try:
                if parts == ["lines"] and method == "GET":
                    return self._send(200, service.lines())
                if parts == ["lines"] and method == "POST":
                    body = self._body()
                    return self._send(201, service.start_line(
                        body.get("trainee"), body.get("scenario"), body.get("seed"), speed=body.get("speed"),
                        duration_s=body.get("duration_s")))
                if len(parts) == 2 and parts[0] == "lines":
                    if method == "GET":
                        return self._send(200, service.line_info(parts[1]))
                    if method == "DELETE":
                        return self._send(200, service.stop_line(parts[1]))
                if len(parts) == 3 and parts[0] == "lines" and parts[2] == "ground-truth" and method == "GET":
                    return self._send(200, service.ground_truth(parts[1]))
            except LineError as error:
                status = 404 if str(error).startswith("no line") else 400
                return self._send(status, {"error": str(error)})
            except ValueError as error:
                return self._send(400, {"error": str(error)})
            except ConnectionError as error:  # the broker is down or refused the service account
                return self._send(503, {"error": f"MQTT broker unavailable: {error}"})
            return self._send(404, {"error": f"no route {method} {path}"})

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise ValueError("request body too large")
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                raise ValueError("request body must be JSON") from None
            if not isinstance(body, dict):
                raise ValueError("request body must be a JSON object")
            return body

        def do_GET(self) -> None:  # noqa: N802
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._route("POST")

        def do_DELETE(self) -> None:  # noqa: N802
            self._route("DELETE")

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="lab-control", daemon=True)
    thread.start()
    return thread


class ServiceClient:
    """What the LMS (and the hub's spawn hook) call to run a trainee's line."""

    def __init__(self, base_url: str, token: str, timeout: float = 10.0) -> None:
        self.base_url, self.timeout = base_url.rstrip("/"), timeout
        self._headers = {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, **kwargs) -> Any:
        try:
            response = requests.request(method, self.base_url + path, headers=self._headers,
                                        timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise ServiceError(f"simulator service unreachable at {self.base_url}: {error}") from None
        try:
            body = response.json()
        except ValueError:
            body = {"error": response.text[:200]}
        if response.status_code >= 400:
            raise ServiceError(body.get("error", f"HTTP {response.status_code}"), response.status_code)
        return body

    def start_line(self, trainee: str, scenario: str, seed: int, *, speed: float | None = None,
                   duration_s: float | None = None) -> dict[str, Any]:
        body = {"trainee": trainee, "scenario": scenario, "seed": seed}
        if speed is not None:
            body["speed"] = speed
        if duration_s is not None:
            body["duration_s"] = duration_s
        return self._call("POST", "/lines", json=body)

    def stop_line(self, trainee: str) -> dict[str, Any]:
        return self._call("DELETE", f"/lines/{trainee}")

    def ground_truth(self, trainee: str) -> dict[str, Any]:
        return self._call("GET", f"/lines/{trainee}/ground-truth")

    def line(self, trainee: str) -> dict[str, Any]:
        return self._call("GET", f"/lines/{trainee}")

    def lines(self) -> list[dict[str, Any]]:
        return self._call("GET", "/lines")

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/healthz")
