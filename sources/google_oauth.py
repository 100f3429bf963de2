"""OAuth2 refresh-token exchange for Google APIs (Ads and GA4), access tokens cached until they
expire. https://developers.google.com/identity/protocols/oauth2/web-server#offline"""

import hashlib
import json
import time
from pathlib import Path

import jwt
from django.conf import settings

from sources import http

_cache: dict[str, tuple[str, float]] = {}
EARLY = 60  # refresh a minute before Google says the token expires


def access_token(*, client_id: str, client_secret: str, refresh_token: str) -> str:
    data = {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
    }
    return _cached_exchange(key=f"{client_id}:{refresh_token}", data=lambda: data)


def service_account_token(*, path: str, scope: str) -> str:
    """An access token for a service account: a JWT signed RS256 with the account's private
    key, exchanged at the token endpoint (cached until it expires).
    https://developers.google.com/identity/protocols/oauth2/service-account#httprest"""
    return _cached_exchange(
        key=f"{path}:{scope}",
        data=lambda: {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": signed_assertion(path=path, scope=scope),
        },
    )


def _cached_exchange(*, key: str, data) -> str:
    """The cached token for `key`, or a new one from the token endpoint; `data` builds the
    form only when a request is needed (signing a JWT is not free)."""
    key = hashlib.sha256(key.encode()).hexdigest()
    token, expires = _cache.get(key, ("", 0.0))
    if token and time.monotonic() < expires:
        return token
    response = http.request(
        "POST", settings.GOOGLE_OAUTH_TOKEN_URL, data=data(), classify=_classify
    )
    body = response.json()
    _cache[key] = (
        body["access_token"],
        time.monotonic() + int(body.get("expires_in", 3600)) - EARLY,
    )
    return body["access_token"]


def signed_assertion(*, path: str, scope: str, now: int | None = None) -> str:
    """The RS256-signed JWT a service account presents; raises ValueError for a bad file."""
    try:
        account = json.loads(Path(path).read_text())
        email, private_key = account["client_email"], account["private_key"]
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"service account file {path} is unreadable: {exc}") from exc
    now = int(time.time()) if now is None else now
    claims = {
        "iss": email,
        "scope": scope,
        "aud": settings.GOOGLE_OAUTH_TOKEN_URL,
        "iat": now,
        "exp": now + 3600,
    }
    headers = {"kid": account["private_key_id"]} if account.get("private_key_id") else None
    return jwt.encode(claims, private_key, algorithm="RS256", headers=headers)


def _classify(response) -> http.Verdict | None:
    # {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    if response.status_code in (400, 401):
        try:
            body = response.json()
        except ValueError:
            body = {}
        reason = body.get("error_description") or body.get("error") or "refused"
        return http.Verdict(
            retry=False, permanent=True, message=f"Google OAuth refused the refresh token: {reason}"
        )
    return None


def forget_tokens() -> None:
    _cache.clear()
