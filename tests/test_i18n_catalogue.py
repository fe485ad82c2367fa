"""The translation catalogues: every UI string of the source is translated in every language, and the checks that
say so really catch what they claim to (a missing, empty, fuzzy or mis-placeholdered translation)."""
from __future__ import annotations

import shutil
import textwrap
from fnmatch import fnmatch
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from lms import translations
from lms.translations import LOCALES, ROOT, compile_catalogues, extract, po_path, problems


@pytest.fixture(scope="module")
def fresh_template(tmp_path_factory) -> Path:
    """Every marked string of the source as it is now (not the committed messages.pot, which may be stale)."""
    path = tmp_path_factory.mktemp("pot") / "messages.pot"
    extract(path)
    return path


def _ids(path: Path) -> set:
    with path.open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id}


def test_every_ui_string_is_translated_in_every_language(fresh_template):
    found = problems(fresh_template)
    listed = "\n".join(f"{locale}: {issue}" for locale, issues in found.items() for issue in issues)
    assert not listed, ("UI strings without a proper translation (run `make messages`, translate them in "
                        "lms/translations/<locale>/LC_MESSAGES/messages.po):\n" + listed)


def test_extraction_sees_python_templates_mail_and_pdf_strings(fresh_template):
    ids = _ids(fresh_template)
    assert "Wrong email or password." in ids  # Python, gettext
    assert "Full name" in ids  # lazy_gettext in a form
    assert "Skip to main content" in ids  # Jinja template
    assert "Someone (hopefully you) asked to reset the password of your NI Academy account." in ids  # mail
    assert "Certificate of Completion" in ids  # N_ in certificates/pdf.py
    assert ("%(num)d attempt", "%(num)d attempts") in ids  # a plural


def test_babel_cfg_covers_every_template_file():
    """A new package's templates (or a new kind of template file) must be added to babel.cfg, or its strings would
    never reach the catalogues."""
    patterns = [line.strip()[1:-1].split(":", 1)[1].strip() for line in (ROOT / "babel.cfg").read_text().splitlines()
                if line.startswith("[")]
    uncovered = [str(path.relative_to(ROOT)) for path in ROOT.glob("*/templates/**/*")
                 if path.is_file() and not any(fnmatch(str(path.relative_to(ROOT)), p) for p in patterns)]
    assert not uncovered


def test_committed_template_is_current(fresh_template):
    """messages.pot is what translators start from: it must list what the source marks (`make messages`)."""
    assert _ids(translations.TEMPLATE) == _ids(fresh_template)


def _write_catalogue(directory: Path, locale: str, body: str) -> None:
    path = po_path(locale, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = textwrap.dedent(f'''\
        msgid ""
        msgstr ""
        "Language: {locale}\\n"
        "Plural-Forms: nplurals=1; plural=0;\\n"
        "Content-Type: text/plain; charset=utf-8\\n"

        ''')
    path.write_text(header + textwrap.dedent(body), encoding="utf-8")


def test_check_reports_missing_empty_fuzzy_and_placeholder_mistakes(tmp_path):
    template = tmp_path / "messages.pot"
    template.write_text(textwrap.dedent('''\
        msgid "Save"
        msgstr ""

        msgid "Hello %(name)s"
        msgstr ""

        msgid "Delete"
        msgstr ""

        msgid "Gone"
        msgstr ""

        msgid "%(num)d file"
        msgid_plural "%(num)d files"
        msgstr[0] ""
        msgstr[1] ""

        msgid "Kept"
        msgstr ""
        '''), encoding="utf-8")
    body = '''\
        msgid "Save"
        msgstr ""

        msgid "Hello %(name)s"
        msgstr "你好 %(nmae)s"

        #, fuzzy
        msgid "Delete"
        msgstr "刪除"

        msgid "%(num)d file"
        msgid_plural "%(num)d files"
        msgstr[0] "檔案"

        msgid "Kept"
        msgstr "保留"
        '''
    for locale in LOCALES:
        _write_catalogue(tmp_path, locale, body)
    for locale, issues in problems(template, tmp_path).items():
        kinds = sorted(issue.split(":", 1)[0] + " " + issue.split("'")[1] for issue in issues)
        assert kinds == ["fuzzy Delete", "missing Gone", "placeholders differ %(num)d file",
                         "placeholders differ Hello %(name)s", "untranslated Save"], (locale, issues)


def test_catalogues_compile_to_what_the_app_loads(tmp_path):
    for locale in LOCALES:
        target = po_path(locale, tmp_path)
        target.parent.mkdir(parents=True)
        shutil.copy(po_path(locale), target)
    for path in compile_catalogues(tmp_path):
        with path.open("rb") as handle:
            compiled = read_mo(handle)
        assert compiled.get("Log in").string in ("登入", "登录")
        assert len([m for m in compiled if m.id]) == len(_ids(translations.TEMPLATE))


@pytest.mark.parametrize("locale, words", [
    ("zh_Hant", {"Log in": "登入", "Email": "電郵", "Course": "課程", "Certificate": "證書", "Upload and verify":
                 "上載並核實"}),
    ("zh_Hans", {"Log in": "登录", "Email": "电子邮箱", "Course": "课程", "Certificate": "证书", "Upload and verify":
                 "上传并验证"}),
])
def test_regional_terminology(locale, words):
    """Hong Kong usage in Traditional (登入, 電郵, 上載), Mainland usage in Simplified (登录, 电子邮箱, 上传)."""
    with po_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    assert {msgid: catalog.get(msgid).string for msgid in words} == words


def test_each_catalogue_is_in_its_own_script():
    """A Simplified character in the Traditional catalogue (or the reverse) is a copy-paste slip."""
    simplified_only, traditional_only = set("这个说书们时来过还没网实验证课账户电邮录题"), set("這個說書們時來過後還沒網實驗證課帳戶電郵錄題")
    for locale, foreign in (("zh_Hant", simplified_only), ("zh_Hans", traditional_only)):
        with po_path(locale).open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        slips = [(m.id, m.string) for m in catalog if m.id and foreign & set("".join(
            m.string if isinstance(m.string, tuple) else (m.string,)))]
        assert not slips, (locale, slips[:5])
