"""Authlib authorization server: authorization code + PKCE (S256 only) + OpenID Connect ID tokens.

Created unbound (no app at import); `init_server(app)` binds it. Tokens and codes are stored hashed.
"""
from __future__ import annotations

import secrets
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import InvalidRequestError, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, current_app, request
from sqlalchemy import select, update

from lms.extensions import db
from lms.models import User

from .claims import user_claims
from .keys import signing_key
from .models import AccessToken, AuthorizationCode, OAuthClient, digest

SCOPES = ["openid", "profile", "email", "groups"]


def issuer() -> str:
    configured = current_app.config.get("OIDC_ISSUER") or current_app.config.get("PUBLIC_BASE_URL")
    return (configured or request.url_root).rstrip("/")


def configured_hub_client() -> OAuthClient | None:
    """The hub client given by settings (OIDC_HUB_CLIENT_ID/SECRET): transient, never written to the database."""
    cfg = current_app.config
    if not (cfg.get("OIDC_HUB_CLIENT_ID") and cfg.get("OIDC_HUB_CLIENT_SECRET")):
        return None
    return OAuthClient(client_id=cfg["OIDC_HUB_CLIENT_ID"], secret_hash=digest(cfg["OIDC_HUB_CLIENT_SECRET"]),
                       name="JupyterHub", redirect_uris=list(cfg["OIDC_HUB_REDIRECT_URIS"]), scopes=list(SCOPES),
                       first_party=True)


def query_client(client_id: str) -> OAuthClient | None:
    client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        configured = configured_hub_client()
        if configured is not None and configured.client_id == client_id:
            return configured
    return client


def save_token(token: dict, oauth_request) -> None:
    code = getattr(oauth_request, "authorization_code", None)
    db.session.add(AccessToken(token_hash=digest(token["access_token"]), client_id=oauth_request.client.client_id,
                               user_id=oauth_request.user.id, code_id=code.id if code is not None else None,
                               scope=token.get("scope", ""), expires_in=int(token.get("expires_in", 3600))))


class S256Challenge(CodeChallenge):
    """PKCE is mandatory for every client, and only with S256 (plain would leak the verifier)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Unsupported code_challenge_method: only S256 is accepted.")
        return super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, oauth_request) -> None:
        data = oauth_request.payload.data
        db.session.add(AuthorizationCode(
            code_hash=digest(code), client_id=oauth_request.client.client_id, user_id=oauth_request.user.id,
            redirect_uri=oauth_request.payload.redirect_uri or "", scope=oauth_request.payload.scope or "",
            nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            expires_at=int(time.time()) + int(current_app.config["OIDC_CODE_TTL"])))
        from .operations import purge_expired  # operations imports this module

        purge_expired()
        db.session.commit()

    def query_authorization_code(self, code: str, client):
        item = db.session.scalar(select(AuthorizationCode).where(
            AuthorizationCode.code_hash == digest(code), AuthorizationCode.client_id == client.client_id))
        if item is None:
            return None
        if item.used:
            # RFC 6749 4.1.2: a replayed code revokes every token issued from it.
            db.session.execute(update(AccessToken).where(AccessToken.code_id == item.id).values(revoked=True))
            db.session.commit()
            return None
        return None if item.is_expired() else item

    def delete_authorization_code(self, authorization_code) -> None:
        authorization_code.used = True
        db.session.commit()

    def authenticate_user(self, authorization_code):
        user = db.session.get(User, authorization_code.user_id)
        return user if user is not None and user.active else None


class LmsOpenIDCode(OpenIDCode):
    def exists_nonce(self, nonce: str, oauth_request) -> bool:
        return db.session.scalar(select(AuthorizationCode.id).where(
            AuthorizationCode.client_id == oauth_request.payload.client_id,
            AuthorizationCode.nonce == nonce).limit(1)) is not None

    def resolve_client_private_key(self, client):
        return signing_key()

    def get_client_algorithm(self, client) -> str:
        return "RS256"

    def get_encode_header(self, client) -> dict:
        return {"alg": "RS256", "kid": signing_key().kid}

    def get_client_claims(self, client) -> dict:
        return {"iss": issuer(), "aud": [client.get_client_id()]}

    def generate_user_info(self, user, scope):
        return user_claims(user, scope)


class LmsTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string: str):
        return db.session.scalar(select(AccessToken).where(AccessToken.token_hash == digest(token_string)))


authorization = AuthorizationServer()
require_oauth = ResourceProtector()


def _generate_access_token(*_args, **_kwargs) -> str:
    return secrets.token_urlsafe(32)


def _token_ttl(client, grant_type) -> int:
    return int(current_app.config["OIDC_TOKEN_TTL"])


def init_server(app: Flask) -> None:
    """Idempotent: tests build several apps; the module-level server reads settings per request."""
    authorization.init_app(app, query_client=query_client, save_token=save_token)
    authorization.scopes_supported = SCOPES
    authorization.register_token_generator("default", BearerTokenGenerator(
        access_token_generator=_generate_access_token, expires_generator=_token_ttl))
    if not authorization._authorization_grants:
        authorization.register_grant(CodeGrant, [S256Challenge(required=True), LmsOpenIDCode(require_nonce=False)])
    if not require_oauth._token_validators:
        require_oauth.register_token_validator(LmsTokenValidator())
