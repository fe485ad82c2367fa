"""Locale choice: the user's saved choice, then the session, then the browser."""
from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

# Browser tags -> our catalogue names.
_BROWSER_TAGS = {"en": "en", "zh-hant": "zh_Hant", "zh-hk": "zh_Hant", "zh-tw": "zh_Hant", "zh-mo": "zh_Hant",
                 "zh-hans": "zh_Hans", "zh-cn": "zh_Hans", "zh-sg": "zh_Hans", "zh": "zh_Hans"}
LOCALE_NAMES = {"en": "English", "zh_Hant": "繁體中文", "zh_Hans": "简体中文"}


def select_locale() -> str:
    if not has_request_context():  # CLI commands and jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    supported = current_app.config["LANGUAGES"]
    user_choice = getattr(current_user, "locale", None) if current_user and current_user.is_authenticated else None
    for choice in (user_choice, session.get("locale")):
        if choice in supported:
            return choice
    for tag, _quality in request.accept_languages:
        mapped = _BROWSER_TAGS.get(tag.lower()) or _BROWSER_TAGS.get(tag.lower().split("-")[0])
        if mapped in supported:
            return mapped
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    return {"zh_Hant": "zh-Hant-HK", "zh_Hans": "zh-Hans"}.get(locale, "en")


def template_gettext(translations) -> dict:
    """`gettext`/`ngettext` for templates bound to this request's catalogue, as jinja2's new-style i18n ones are
    (autoescape-aware, always %-formatted), so that each `_()` does not look the locale up again."""
    ugettext, ungettext = translations.ugettext, translations.ungettext

    @pass_context
    def gettext(__context, __string: str, **variables):
        rv = ugettext(__string)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    @pass_context
    def ngettext(__context, __singular: str, __plural: str, __num: int, **variables):
        variables.setdefault("num", __num)
        rv = ungettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    # `_` too: jinja's own `_` is an alias that looks `gettext` up and calls it through the context again
    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}
