"""The LMS as OpenID Connect provider: code flow with PKCE, ID token, userinfo, and clear OAuth errors."""
from __future__ import annotations

import base64
import secrets
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.fixtures.oidc import HUB_REDIRECT, TEST_COURSE, build_lab_app, dispose, query_of


@pytest.fixture(scope="module")
def app(app_config):
    application = build_lab_app(app_config)
    yield application
    dispose(application)


def _authorize(client, client_id, challenge, *, redirect_uri=HUB_REDIRECT, method="S256", state="st-1", **extra):
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": "openid profile email groups", "state": state, **extra}
    if challenge is not None:
        params["code_challenge"] = challenge
    if method is not None:
        params["code_challenge_method"] = method
    return client.get("/oauth/authorize?" + urlencode(params))


def _token(client, client_id, secret, code, verifier, redirect_uri=HUB_REDIRECT):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/oauth/token", data=data, headers={"Authorization": f"Basic {basic}"})


@pytest.fixture
def signed_in(client, make_user, login, lab_enrol):
    user = make_user(role="trainee", name="Ada Trainee")
    lab_enrol(user)
    login(user)
    return user


def _code(client, hub_client, pkce, nonce=None, **extra):
    response = _authorize(client, hub_client[0], pkce[1], nonce=nonce or secrets.token_hex(8), **extra)
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    location = response.headers["Location"]
    assert location.startswith(HUB_REDIRECT)
    query = query_of(location)
    assert query["state"] == "st-1"
    return query["code"]


def test_discovery_and_jwks(client):
    meta = client.get("/.well-known/openid-configuration").get_json()
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["token_endpoint"].endswith("/oauth/token")
    assert "groups" in meta["scopes_supported"]
    keys = client.get("/oauth/jwks").get_json()["keys"]
    assert keys[0]["kty"] == "RSA" and "d" not in keys[0] and keys[0]["kid"]


def test_code_flow_with_pkce_gives_verified_id_token_and_userinfo(client, signed_in, hub_client, pkce):
    code = _code(client, hub_client, pkce, nonce="n-123")
    response = _token(client, *hub_client, code, pkce[0])
    assert response.status_code == 200, response.get_json()
    token = response.get_json()
    assert token["token_type"].lower() == "bearer" and token["expires_in"] > 0
    keys = KeySet.import_key_set(client.get("/oauth/jwks").get_json())
    claims = jwt.decode(token["id_token"], keys).claims
    assert claims["iss"] == "http://localhost" and claims["aud"] == [hub_client[0]]
    assert claims["sub"] == str(signed_in.id) and claims["nonce"] == "n-123"
    info = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token['access_token']}"}).get_json()
    assert info["email"] == signed_in.email and info["name"] == "Ada Trainee"
    assert info["preferred_username"] == f"u{signed_in.id}"
    assert info["groups"] == ["trainee", "enrolled", f"course-{TEST_COURSE}"]


def test_first_party_client_skips_consent_but_anonymous_user_must_log_in(client, hub_client, pkce):
    response = _authorize(client, hub_client[0], pkce[1])
    assert response.status_code == 302
    assert "/accounts/login?next=" in response.headers["Location"]


def test_missing_pkce_is_refused_back_to_the_client(client, signed_in, hub_client):
    response = _authorize(client, hub_client[0], None, method=None)
    query = query_of(response.headers["Location"])
    assert response.status_code == 302 and query["error"] == "invalid_request"
    assert "PKCE is required" in query["error_description"] and query["state"] == "st-1"


def test_plain_pkce_is_refused(client, signed_in, hub_client, pkce):
    response = _authorize(client, hub_client[0], pkce[1], method="plain")
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_wrong_code_verifier_is_invalid_grant(client, signed_in, hub_client, pkce):
    code = _code(client, hub_client, pkce)
    response = _token(client, *hub_client, code, "x" * 50)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    missing = _token(client, *hub_client, _code(client, hub_client, pkce), None)
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_request"


def test_wrong_redirect_uri_is_shown_not_followed(client, signed_in, hub_client, pkce):
    response = _authorize(client, hub_client[0], pkce[1], redirect_uri="http://evil.example/cb")
    assert response.status_code == 400 and "Location" not in response.headers
    assert "invalid_request" in response.get_data(as_text=True)
    code = _code(client, hub_client, pkce)
    mismatch = _token(client, *hub_client, code, pkce[0], redirect_uri="http://127.0.0.1:9/other")
    assert mismatch.status_code == 400 and mismatch.get_json()["error"] == "invalid_grant"


def test_unknown_client_is_shown_not_followed(client, signed_in, pkce):
    response = _authorize(client, "nobody", pkce[1])
    assert response.status_code == 400 and "invalid_client" in response.get_data(as_text=True)


def test_replayed_code_fails_and_revokes_the_first_token(client, signed_in, hub_client, pkce):
    code = _code(client, hub_client, pkce)
    first = _token(client, *hub_client, code, pkce[0]).get_json()["access_token"]
    replay = _token(client, *hub_client, code, pkce[0])
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    revoked = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {first}"})
    assert revoked.status_code == 401 and "invalid_token" in revoked.headers["WWW-Authenticate"]


def test_bad_client_secret_is_invalid_client(client, signed_in, hub_client, pkce):
    code = _code(client, hub_client, pkce)
    response = _token(client, hub_client[0], "wrong-secret", code, pkce[0])
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    # The code was not spent by the failed attempt.
    assert _token(client, *hub_client, code, pkce[0]).status_code == 200


def test_userinfo_needs_a_token(client):
    response = client.get("/oauth/userinfo")
    assert response.status_code == 401 and response.get_json()["error"] == "missing_authorization"


def test_logout_revokes_tokens(client, signed_in, hub_client, pkce, csrf_token):
    token = _token(client, *hub_client, _code(client, hub_client, pkce), pkce[0]).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/oauth/userinfo", headers=headers).status_code == 200
    assert client.post("/accounts/logout", data={"csrf_token": csrf_token("/accounts/profile")}).status_code == 302
    assert client.get("/oauth/userinfo", headers=headers).status_code == 401


def test_instructor_groups_and_unenrolled_trainee(client, make_user, login, hub_client, pkce):
    teacher = make_user(role="instructor")
    login(teacher)
    token = _token(client, *hub_client, _code(client, hub_client, pkce), pkce[0]).get_json()["access_token"]
    info = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert info["groups"] == ["instructor"]


def test_cli_registers_hub_client(app, client, signed_in, pkce):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["oidc", "register-hub", "--redirect-uri", "ftp://x"])
    assert bad.exit_code != 0 and "not an http(s) URL" in bad.output
    result = runner.invoke(args=["oidc", "register-hub", "--client-id", "cli-hub", "--redirect-uri", HUB_REDIRECT])
    assert result.exit_code == 0, result.output
    secret = next(line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith("client_secret"))
    code = _code(client, ("cli-hub", secret), pkce)
    assert _token(client, "cli-hub", secret, code, pkce[0]).status_code == 200


def test_client_from_settings_needs_no_registration(app_config):
    settings_app = build_lab_app(app_config, OIDC_HUB_CLIENT_ID="hub-from-env", OIDC_HUB_CLIENT_SECRET="s" * 32,
                                 OIDC_HUB_REDIRECT_URIS=HUB_REDIRECT)
    assert settings_app.config["OIDC_HUB_REDIRECT_URIS"] == [HUB_REDIRECT]
    try:
        response = settings_app.test_client().get("/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": "hub-from-env", "redirect_uri": HUB_REDIRECT, "scope": "openid",
            "code_challenge": "a" * 43, "code_challenge_method": "S256"}))
    finally:
        dispose(settings_app)
    assert response.status_code == 302 and "/accounts/login" in response.headers["Location"]


def test_expired_codes_and_tokens_are_purged(app, client, signed_in, hub_client, pkce):
    """Old rows go with the next login (no cron job needed) and with `flask oidc purge`; live ones stay."""
    from sqlalchemy import func, select, update

    from lms.extensions import db
    from lms.oidc.models import AccessToken, AuthorizationCode

    def counts():
        return (db.session.scalar(select(func.count(AuthorizationCode.id))),
                db.session.scalar(select(func.count(AccessToken.id))))

    code = _code(client, hub_client, pkce)
    assert _token(client, *hub_client, code, pkce[0]).status_code == 200
    with app.app_context():
        assert counts() == (1, 1)
        two_days_ago = 2 * 24 * 3600
        db.session.execute(update(AuthorizationCode).values(expires_at=AuthorizationCode.expires_at - two_days_ago))
        db.session.execute(update(AccessToken).values(issued_at=AccessToken.issued_at - two_days_ago))
        db.session.commit()
    code = _code(client, hub_client, pkce)  # a new login purges what expired more than a day ago
    with app.app_context():
        assert counts() == (1, 0)
        db.session.execute(update(AuthorizationCode).values(expires_at=AuthorizationCode.expires_at - 7200))
        db.session.commit()
    kept = app.test_cli_runner().invoke(args=["oidc", "purge"])
    assert kept.exit_code == 0 and "deleted 0 expired authorization code(s)" in kept.output
    purged = app.test_cli_runner().invoke(args=["oidc", "purge", "--keep-hours", "1"])
    assert purged.exit_code == 0 and "deleted 1 expired authorization code(s)" in purged.output, purged.output
    with app.app_context():
        assert counts() == (0, 0)
    assert app.test_cli_runner().invoke(args=["oidc", "purge", "--keep-hours", "-1"]).exit_code == 2
