"""Everything besides the page chrome in the reader's language: course content (with English where a translation
is missing), e-mails, error pages, dates and numbers, wtforms' own messages and the certificate PDF's words."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from flask import render_template_string
from flask_babel import force_locale, refresh
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import (BadRequest, Forbidden, InternalServerError, MethodNotAllowed, NotFound,
                                 RequestEntityTooLarge, TooManyRequests)
from wtforms import DecimalField

from certificates import pdf
from lms.core.i18n import catalogue
from lms.extensions import db
from lms.models import Course, Enrolment, User
from tests.test_i18n_pages import COURSE, compiled_catalogues  # noqa: F401 - autouse fixture

ZH_HANT = {"Accept-Language": "zh-HK"}
ZH_HANS = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def sensors(app, course_tree, imported, make_user):
    """The translated course of test_i18n_pages, minus the Simplified lesson file, and an enrolled trainee."""
    course_tree.files.clear()
    files = {k: v for k, v in COURSE.items() if k != "lessons/first.zh_Hans.md"}
    full = "          zh_Hans: {title: 生产线上的传感器, summary: 读取机器传感器。}\n"
    assert full in files["course.yaml"]
    files["course.yaml"] = files["course.yaml"].replace(full, "          zh_Hans: {title: 生产线上的传感器}\n")
    imported(course_tree.add("sensors", files))
    trainee = make_user(name="陳大文")
    with app.app_context():
        course = db.session.query(Course).filter_by(slug="sensors").one()
        db.session.add(Enrolment(user_id=trainee.id, course_id=course.id))
        db.session.commit()
        quiz_id = course.modules[0].quizzes[0].id
        db.session.remove()
    return trainee, quiz_id


def test_learner_pages_show_content_in_the_locale_with_english_fallback(client, sign_in, sensors, quiz_flow):
    trainee, quiz_id = sensors
    sign_in(trainee)
    pages = {"catalog": "/courses", "course": "/courses/sensors", "lesson": "/courses/sensors/lessons/first",
             "dashboard": "/dashboard", "quizzes": "/quizzes/", "quiz": f"/quizzes/{quiz_id}"}
    expected = {
        EN["Accept-Language"]: {"catalog": ["Sensors on the line", "Reading machine sensors."],
                                "course": ["Sensors on the line", "Basics", "First lesson", "Check"],
                                "lesson": ["First lesson", "English body."], "dashboard": ["Sensors on the line"],
                                "quizzes": ["Sensors on the line", "Check"], "quiz": ["Check", "Basics"]},
        ZH_HANT["Accept-Language"]: {"catalog": ["生產線上的感測器", "讀取機器感測器。"],
                                     "course": ["生產線上的感測器", "基礎", "第一課", "小測"],
                                     "lesson": ["第一課", "第一課的內容。"], "dashboard": ["生產線上的感測器"],
                                     "quizzes": ["生產線上的感測器", "小測"], "quiz": ["小測", "基礎", "生產線上的感測器"]},
        # Simplified: title translated, summary and the lesson file missing -> English for exactly those
        ZH_HANS["Accept-Language"]: {"catalog": ["生产线上的传感器", "Reading machine sensors."],
                                     "course": ["生产线上的传感器", "基础", "First lesson", "小测"],
                                     "lesson": ["First lesson", "English body."], "dashboard": ["生产线上的传感器"],
                                     "quizzes": ["生产线上的传感器", "小测"], "quiz": ["小测", "基础"]},
    }
    for language, wanted in expected.items():
        for page, texts in wanted.items():
            html = client.get(pages[page], headers={"Accept-Language": language}).get_data(as_text=True)
            missing = [text for text in texts if text not in html]
            assert not missing, (language, page, missing)
    attempt = quiz_flow.start_id(quiz_id)
    sheet = client.get(f"/quizzes/attempts/{attempt}", headers=ZH_HANT).get_data(as_text=True)
    assert "二加二等於？" in sheet and "選乙" in sheet and "甲" in sheet  # both questions are drawn
    assert "2 + 2?" not in sheet and "Pick b" not in sheet


def test_reset_email_is_in_the_recipients_language(app, client, make_user, post_form, mailbox):
    saved, unsaved = make_user(email="hant@example.test"), make_user(email="browser@example.test")
    with app.app_context():
        db.session.get(User, saved.id).locale = "zh_Hant"
        db.session.commit()
        db.session.remove()
    post_form("/accounts/reset", {"email": saved.email}, headers=ZH_HANS)  # the saved choice wins over the browser
    post_form("/accounts/reset", {"email": unsaved.email}, headers=ZH_HANS)  # no choice: the requesting browser's
    hant, hans = mailbox()
    assert hant["Subject"] == "重設你的 NI Academy 密碼" and hans["Subject"] == "重置你的 NI Academy 密码"
    for message, greeting in ((hant, "你好："), (hans, "你好：")):
        text, html = message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()
        assert greeting in text and greeting in html
        assert "Someone" not in text and "Someone" not in html
    assert "連結只可使用一次" in hant.get_body(("plain",)).get_content()
    assert "链接只能使用一次" in hans.get_body(("plain",)).get_content()


@pytest.mark.parametrize("error, title", [
    (BadRequest(), {"zh_Hant": "要求無效", "zh_Hans": "请求无效"}),
    (Forbidden(), {"zh_Hant": "沒有權限", "zh_Hans": "无权访问"}),
    (NotFound(), {"zh_Hant": "找不到頁面", "zh_Hans": "找不到页面"}),
    (MethodNotAllowed(["GET"]), {"zh_Hant": "不允許的要求方法", "zh_Hans": "不允许的请求方法"}),
    (RequestEntityTooLarge(), {"zh_Hant": "上載的內容太大", "zh_Hans": "上传的内容过大"}),
    (TooManyRequests(), {"zh_Hant": "嘗試次數過多", "zh_Hans": "尝试次数过多"}),
    (InternalServerError(), {"zh_Hant": "發生錯誤", "zh_Hans": "出错了"}),
])
@pytest.mark.parametrize("locale, header", [("zh_Hant", ZH_HANT), ("zh_Hans", ZH_HANS)])
def test_error_pages_are_translated(app, error, title, locale, header):
    with app.test_request_context("/somewhere", headers=header):
        response = app.make_response(app.handle_user_exception(error))
    html = response.get_data(as_text=True)
    assert response.status_code == error.code and title[locale] in html
    assert "Something went wrong" not in html and "Page not found" not in html


def test_real_error_responses_in_chinese(client, make_user, sign_in):
    assert "找不到頁面" in client.get("/no-such-page", headers=ZH_HANT).get_data(as_text=True)
    sign_in(make_user())
    response = client.get("/admin/users", headers=ZH_HANS)
    assert response.status_code == 403 and "你的账户没有权限打开此页面。" in response.get_data(as_text=True)


def test_api_problem_detail_is_translated_and_title_stays_the_status_phrase(client):
    response = client.get("/api/v1/courses/no-such-course", headers=ZH_HANT)
    problem = response.get_json()
    assert response.status_code == 404 and problem["title"] == "Not Found"  # documented: the HTTP status phrase
    assert problem["detail"] == "沒有代號為 'no-such-course' 的課程。"


MOMENT = datetime(2025, 1, 5, 15, 4, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize("locale, expected", [
    ("en", ["Jan 5, 2025, 3:04\u202fPM UTC", "Jan 5, 2025, 3:04:05\u202fPM UTC", "Jan 5, 2025", "86%", "2.5%",
            "1,234.5", "Jan 5, 2025, 3:04\u202fPM UTC"]),  # CLDR puts a narrow no-break space before PM
    ("zh_Hant", ["2025年1月5日 下午3:04 UTC", "2025年1月5日 下午3:04:05 UTC", "2025年1月5日", "86%", "2.5%",
                 "1,234.5", "2025年1月5日 下午3:04 UTC"]),
    ("zh_Hans", ["2025年1月5日 15:04 UTC", "2025年1月5日 15:04:05 UTC", "2025年1月5日", "86%", "2.5%", "1,234.5",
                 "2025年1月5日 15:04 UTC"]),
])
def test_dates_and_numbers_follow_the_locale(app, locale, expected):
    template = ("{{ t|when }}|{{ t|when(seconds=True) }}|{{ t|dateformat }}|{{ 85.5|percent }}|{{ 2.5|percent(2) }}"
                "|{{ 1234.5|decimalformat }}|{{ iso|when }}|{{ 'not a date'|when }}|{{ none|when }}")
    with app.test_request_context("/"), force_locale(locale):
        rendered = render_template_string(template, t=MOMENT, iso="2025-01-05T15:04:05Z").split("|")
    assert rendered == [*expected, "not a date", ""]


def test_times_are_shown_in_the_configured_zone_and_say_which(app, monkeypatch):
    monkeypatch.setattr(app.extensions["babel"], "default_timezone", "Asia/Hong_Kong")
    with app.test_request_context("/"), force_locale("zh_Hant"):
        assert render_template_string("{{ t|when }}", t=MOMENT) == "2025年1月5日 晚上11:04 UTC+08:00"


def test_wtforms_own_messages_use_the_right_script(app):
    class ScoreForm(FlaskForm):
        score = DecimalField()

    for header, wanted in ((ZH_HANT, "不是有效的十進位數值"), (ZH_HANS, "不是有效的小数"), (EN, "Not a valid decimal")):
        with app.test_request_context("/", method="POST", headers=header):
            refresh()  # pytest-flask's app context outlives each request context: forget the last locale
            app.preprocess_request()
            form = ScoreForm(formdata=MultiDict({"score": "abc"}), meta={"csrf": False})
            assert not form.validate()
            assert wanted in form.score.errors[0], (header, form.score.errors)


@pytest.mark.parametrize("language, words", [
    ("en", {"title": "Certificate of Completion", "id": "Credential ID", "revoked": "REVOKED"}),
    ("zh_Hant", {"title": "結業證書", "id": "證書編號", "verify": "核實網址", "revoked": "已撤銷"}),
    ("zh_Hans", {"title": "结业证书", "id": "证书编号", "verify": "验证网址", "revoked": "已撤销"}),
])
def test_certificate_pdf_uses_the_catalogue_words(app, language, words):
    with app.app_context():
        text = pdf.certificate_text(language)
        assert {key: text[key] for key in words} == words
        # the same words as the web pages' labels in that language
        assert text["id"] == catalogue(language).ugettext("Credential ID")
        assert text["valid_until"] == catalogue(language).ugettext("Valid until")


def test_certificate_pdf_dates_are_written_per_language():
    assert pdf._date("2025-01-05T03:04:05Z", "en") == "January 5, 2025"
    assert pdf._date("2025-01-05T03:04:05Z", "zh_Hant") == "2025年1月5日"
    assert pdf._date("2025-01-05T03:04:05Z", "zh_Hans") == "2025年1月5日"


def test_certificate_pdf_text_works_without_an_app():
    """The offline CLI and the benchmarks render PDFs outside a request: the shipped catalogues are used."""
    assert pdf.certificate_text("zh_Hant")["title"] == "結業證書"
