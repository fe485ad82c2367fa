"""JupyterHub REST API client used with the LMS service token (narrow role, see virtual_lab/hub)."""
from __future__ import annotations

import time
from typing import Iterator
from urllib.parse import quote

import httpx
from flask import current_app
from flask_babel import gettext as _

from lms.core.exceptions import UserError


class HubUnavailable(UserError):
    status = 503


class HubError(UserError):
    status = 502


class NoSuchHubUser(HubError):
    """The hub has no account of that name (first launch, or the hub's state was reset): create it and retry."""


def _client(timeout: float | None = None) -> httpx.Client:
    cfg = current_app.config
    return httpx.Client(base_url=cfg["HUB_URL"], timeout=timeout or cfg["HUB_TIMEOUT"],
                        headers={"Authorization": f"token {cfg['HUB_API_TOKEN']}"})


def _call(method: str, path: str, **kwargs) -> httpx.Response:
    try:
        with _client() as client:
            return client.request(method, path, **kwargs)
    except httpx.HTTPError as error:
        current_app.logger.warning("hub unreachable: %s %s: %s", method, path, error)
        raise HubUnavailable(_("The lab service is not reachable right now. Please try again in a minute.")) from None


def _api(name: str, server: str | None = None) -> str:
    path = f"/hub/api/users/{quote(name, safe='')}"
    return path + (f"/servers/{quote(server, safe='')}" if server is not None else "")


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", ""))
    except ValueError:
        return response.text[:200]


def ensure_user(name: str) -> None:
    response = _call("POST", _api(name))
    if response.status_code not in (201, 409):
        raise HubError(_("The lab service refused to create your lab account (%(status)s).",
                         status=response.status_code))


def get_server(name: str, server: str) -> dict | None:
    """The server model ({ready, pending, url, progress_url...}) or None when it is not running."""
    response = _call("GET", _api(name))
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise HubError(_("The lab service answered %(status)s.", status=response.status_code))
    return (response.json().get("servers") or {}).get(server)


def start_server(name: str, server: str) -> str:
    """Start (idempotent): 'started', 'pending' or 'running'. A second click never makes a second server."""
    response = _call("POST", _api(name, server), json={})
    if response.status_code == 201:
        return "started"
    if response.status_code == 202:
        return "pending"
    message = _message(response)
    if response.status_code == 400 and "already running" in message:
        return "running"
    if response.status_code == 400 and "pending spawn" in message:
        return "pending"
    if response.status_code == 400 and "pending stop" in message:
        raise HubUnavailable(_("Your lab is still stopping. Please try again in a few seconds."))
    if response.status_code == 500:
        # The hub answers 500 to a start racing another start of the same server (a double click from two
        # requests): if that one is under way, this click has nothing left to do.
        model = get_server(name, server)
        if model and model.get("ready"):
            return "running"
        if model and model.get("pending") == "spawn":
            return "pending"
    if response.status_code == 404:
        if _call("GET", _api(name)).status_code == 404:
            raise NoSuchHubUser(_("Your lab account does not exist on the lab service yet."))
        raise HubError(_("The lab could not be prepared: %(why)s", why=message or _("unknown lab")))
    if response.status_code == 503:
        raise HubUnavailable(_("The lab could not start: %(why)s", why=message or _("a service is down")))
    raise HubError(_("The lab could not start (%(status)s): %(why)s", status=response.status_code, why=message))


def stop_server(name: str, server: str, wait: float = 30.0) -> None:
    response = _call("DELETE", _api(name, server))
    if response.status_code not in (202, 204, 404, 400):
        raise HubError(_("The lab could not be stopped (%(status)s).", status=response.status_code))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        model = get_server(name, server)
        if model is None or (not model.get("ready") and not model.get("pending")):
            return
        time.sleep(0.3)
    raise HubError(_("The lab is taking too long to stop. Please try again in a minute."))


def progress_events(name: str, server: str) -> Iterator[bytes]:
    """Relay the hub's Server-Sent Events progress stream, chunk by chunk."""
    cfg = current_app.config
    timeout = httpx.Timeout(cfg["HUB_TIMEOUT"], read=cfg["HUB_SPAWN_TIMEOUT"])
    try:
        with _client(timeout) as client, client.stream("GET", _api(name, server) + "/progress") as response:
            if response.status_code != 200:
                yield _sse_error(_("No lab is starting or running (%(status)s).", status=response.status_code))
                return
            yield from response.iter_raw()
    except httpx.HTTPError:
        yield _sse_error(_("The lab service is not reachable right now. Please try again in a minute."))


def _sse_error(message: str) -> bytes:
    import json

    return f"event: lab-error\ndata: {json.dumps({'message': message})}\n\n".encode()


def fetch_contents(name: str, server: str, path: str) -> httpx.Response:
    """GET the Jupyter contents model of `path` in the trainee's server, through the proxy."""
    url = f"/user/{quote(name, safe='')}/{quote(server, safe='')}/api/contents/{quote(path)}"
    return _call("GET", url, params={"content": "1"})


def token_owner(token: str) -> dict | None:
    """The hub's model of whoever holds `token` (GET /hub/api/user *with that token*), incl. its scopes; None when
    the hub does not accept the token (revoked, expired, unknown)."""
    cfg = current_app.config
    try:
        with httpx.Client(base_url=cfg["HUB_URL"], timeout=cfg["HUB_TIMEOUT"]) as client:
            response = client.get("/hub/api/user", headers={"Authorization": f"token {token}"})
    except httpx.HTTPError as error:
        current_app.logger.warning("hub unreachable: GET /hub/api/user: %s", error)
        raise HubUnavailable(_("The lab service is not reachable right now. Please try again in a minute.")) from None
    if response.status_code in (401, 403):
        return None
    if response.status_code != 200:
        raise HubError(_("The lab service answered %(status)s.", status=response.status_code))
    return response.json()


def _is_server_token(token: dict) -> bool:
    """A running server's own API token (hub-issued at spawn, no browser session): it is not a login session."""
    return token.get("session_id") is None and str(token.get("note") or "").startswith("Server at ")


def end_user_session(name: str) -> int:
    """Revoke the user's hub login tokens (incl. the OAuth tokens behind single-user server cookies).

    Running servers keep their own API token: revoking it would not end any browser session, but would leave the
    server unable to report activity or submit from inside the lab until it restarts."""
    response = _call("GET", _api(name) + "/tokens")
    if response.status_code == 404:
        return 0
    if response.status_code != 200:
        raise HubError(_("The lab service answered %(status)s.", status=response.status_code))
    revoked = 0
    for token in response.json().get("api_tokens", []):
        if _is_server_token(token):
            continue
        if _call("DELETE", _api(name) + f"/tokens/{token['id']}").status_code in (200, 204):
            revoked += 1
    return revoked
