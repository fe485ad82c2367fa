"""Locale choice (the user's saved choice, then the session, then the browser) and locale-aware formatting."""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from babel.dates import get_datetime_format
from babel.numbers import format_percent
from babel.support import NullTranslations, Translations
from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_time, get_locale, to_user_timezone
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup
from wtforms.i18n import messages_path

LOCALE_NAMES = {"en": "English", "zh_Hant": "繁體中文", "zh_Hans": "简体中文"}
# Browser language tags (RFC 5646) -> our catalogue names: the script subtag decides, else the region.
_SCRIPTS = {"hant": "zh_Hant", "hans": "zh_Hans"}
_CHINESE_REGIONS = {"hk": "zh_Hant", "tw": "zh_Hant", "mo": "zh_Hant", "cn": "zh_Hans", "sg": "zh_Hans",
                    "my": "zh_Hans"}


def select_locale() -> str:
    if not has_request_context():  # CLI commands and jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    supported = current_app.config["LANGUAGES"]
    user_choice = getattr(current_user, "locale", None) if current_user and current_user.is_authenticated else None
    for choice in (user_choice, session.get("locale")):
        if choice in supported:
            return choice
    for tag, _quality in request.accept_languages:
        mapped = browser_locale(tag)
        if mapped in supported:
            return mapped
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def browser_locale(tag: str) -> str | None:
    """"zh-Hant-HK", "zh-HK", "zh-TW" -> zh_Hant; "zh-Hans-HK", "zh-CN", "zh" -> zh_Hans; "en-GB" -> en."""
    language, *rest = tag.lower().replace("_", "-").split("-")
    if language == "en":
        return "en"
    if language != "zh":
        return None
    for part in rest:
        if part in _SCRIPTS:
            return _SCRIPTS[part]
    return next((_CHINESE_REGIONS[part] for part in rest if part in _CHINESE_REGIONS), "zh_Hans")


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


def init_i18n(app) -> None:
    """Template filters for locale-formatted dates and percentages (flask-babel already gives `dateformat`,
    `decimalformat` …), and wtforms' own messages in the right script."""
    app.add_template_filter(format_when, "when")
    app.add_template_filter(format_percent_of_100, "percent")
    app.before_request(_use_wtforms_catalogue)


def format_when(value, seconds: bool = False) -> str:
    """A moment as the locale writes it ("Jan 5, 2025, 3:04 PM" / "2025年1月5日 下午3:04") in the app's time zone
    (BABEL_DEFAULT_TIMEZONE, UTC unless configured), followed by that zone so nobody misreads the hour."""
    if value is None:
        return ""
    if isinstance(value, str):  # an ISO 8601 timestamp from a document (a credential's validFrom)
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    pattern = get_datetime_format("medium", locale=get_locale() or "en")
    text = pattern.replace("{1}", format_date(value, "medium")).replace(
        "{0}", format_time(value, "medium" if seconds else "short"))
    return f"{text} {_zone_label(to_user_timezone(value))}"


def _zone_label(local) -> str:
    offset = local.utcoffset()
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_percent_of_100(value, digits: int = 0) -> str:
    """85.7 -> "86%" (or "85.7%" with digits=1): the app keeps percentages as 0-100 numbers; babel wants a ratio.
    Rounded half-up to `digits` places, trailing zeros dropped."""
    if value is None:
        return ""
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return format_percent(rounded / 100, locale=get_locale() or "en", decimal_quantization=False)


# wtforms ships Simplified Chinese as `zh` and Traditional as `zh_TW`; gettext's fallback from our `zh_Hant` would
# pick `zh`, so zh_Hant users would read wtforms' default messages in Simplified characters.
_WTFORMS_LOCALES = {"zh_Hant": "zh_TW", "zh_Hans": "zh"}


class _WtformsCatalogue:
    """What Flask-WTF looks for in `request.wtforms_translations`; resolves the locale only when a form actually
    shows one of wtforms' own messages."""

    def _catalogue(self):
        cache = current_app.extensions.setdefault("nia.wtforms_catalogues", {})
        locale = str(get_locale() or "en")
        if locale not in cache:
            cache[locale] = Translations.load(messages_path(), [_WTFORMS_LOCALES.get(locale, locale)],
                                              domain="wtforms")
        return cache[locale]

    def ugettext(self, string: str) -> str:
        return self._catalogue().ugettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogue().ungettext(singular, plural, n)

    gettext, ngettext = ugettext, ungettext


_WTFORMS_CATALOGUE = _WtformsCatalogue()


def _use_wtforms_catalogue() -> None:
    request.wtforms_translations = _WTFORMS_CATALOGUE


def catalogue(locale: str):
    """The UI catalogue of `locale` whatever the visitor's own locale is: for documents made in a language chosen
    for them (a certificate PDF). English, the source language, has none: its msgids are the text."""
    if locale == "en":
        return NullTranslations()
    try:
        directories = current_app.extensions["babel"].translation_directories
        cache = current_app.extensions.setdefault("nia.catalogues", {})
    except (RuntimeError, KeyError):  # no app: the catalogues shipped with the code
        directories, cache = [str(Path(__file__).resolve().parent.parent / "translations")], {}
    if locale not in cache:
        found = (Translations.load(directory, [locale]) for directory in directories)
        cache[locale] = next((t for t in found if isinstance(t, Translations)), NullTranslations())
    return cache[locale]
