"""OAuth2 / OpenID Connect endpoints. Protocol errors are OAuth error documents, never HTML 500s."""
from __future__ import annotations

from authlib.integrations.flask_oauth2 import current_token
from authlib.integrations.flask_oauth2.errors import _HTTPException as OAuthHTTPError
from authlib.oauth2 import OAuth2Error
from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from lms.core.decorators import public
from lms.extensions import csrf, db
from lms.models import User

from .claims import user_claims
from .keys import public_jwks
from .server import SCOPES, authorization, issuer, require_oauth

bp = Blueprint("oidc", __name__)


@bp.errorhandler(OAuthHTTPError)
def _oauth_error(error: OAuthHTTPError):
    """Resource errors stay RFC 6750 JSON with WWW-Authenticate, not the site's HTML error page."""
    return error.get_response()


def _error_page(error: OAuth2Error):
    if error.redirect_uri:  # the client and its redirect URI are verified: tell the client
        return authorization.handle_error_response(request, error)
    return render_template("oidc/error.html", error=error.error, description=error.get_error_description()), 400


@bp.route("/oauth/authorize", methods=["GET", "POST"])
@public
def authorize():
    user = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        grant = authorization.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _error_page(error)
    if user is None:
        return redirect(url_for("accounts.login", next=request.full_path))
    if request.method == "GET" and not grant.client.first_party:
        return render_template("oidc/consent.html", client=grant.client, scopes=grant.request.payload.scope)
    granted = grant.client.first_party or request.form.get("decision") == "allow"
    return authorization.create_authorization_response(grant=grant, grant_user=user if granted else None)


@bp.post("/oauth/token")
@csrf.exempt
@public
def token():
    return authorization.create_token_response()


@bp.route("/oauth/userinfo", methods=["GET", "POST"])
@csrf.exempt
@public
@require_oauth()
def userinfo():
    user = db.session.get(User, current_token.user_id)
    if user is None or not user.active:
        abort(401)
    return jsonify(user_claims(user, current_token.scope))


@bp.get("/oauth/jwks")
@public
def jwks():
    return jsonify(public_jwks())


@bp.get("/.well-known/openid-configuration")
@public
def discovery():
    base = issuer()
    return jsonify({
        "issuer": base,
        "authorization_endpoint": base + url_for("oidc.authorize"),
        "token_endpoint": base + url_for("oidc.token"),
        "userinfo_endpoint": base + url_for("oidc.userinfo"),
        "jwks_uri": base + url_for("oidc.jwks"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": SCOPES,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "name", "preferred_username", "email", "groups", "iss", "aud", "exp", "iat",
                             "auth_time", "nonce"],
    })
