"""quizzes/<slug>.yaml -> QuizSpec, with every problem reported as file:line."""
from __future__ import annotations

from pathlib import Path

from .checks import SLUG_RE, FileChecker
from .specs import QuestionSpec, QuizSpec
from .yamlload import ContentError, YList, YMap, load

KINDS = ("single", "multiple", "numeric", "text")
QUIZ_REQUIRED = {"title", "pass_mark", "questions"}
QUIZ_OPTIONAL = {"draw", "attempts", "time_limit_minutes", "translations"}
QUESTION_REQUIRED = {"id", "type", "prompt", "answer"}
QUESTION_OPTIONAL = {"options", "tolerance", "explanation", "points", "translations"}


def read_quiz(file: Path, slug: str, locales: list[str], errors: list[ContentError]) -> QuizSpec | None:
    path = str(file)
    before = len(errors)
    try:
        data = load(file.read_text(encoding="utf-8"), path)
    except ContentError as error:
        errors.append(error)
        return None
    except UnicodeDecodeError:
        errors.append(ContentError(path, 1, "file is not UTF-8 text"))
        return None
    check = FileChecker(path, errors)
    data = check.mapping(data, "the quiz file", 1)
    if data is None:
        return None
    check.keys(data, "the quiz", QUIZ_REQUIRED, QUIZ_OPTIONAL)
    title = check.text(data, "title", max_len=200)
    pass_mark = check.number(data, "pass_mark", default=70.0, minimum=0, maximum=100)
    attempts = check.number(data, "attempts", default=None, integer=True, minimum=1, nullable=True)
    time_limit = check.number(data, "time_limit_minutes", default=None, integer=True, minimum=1, maximum=600,
                              nullable=True)
    translations = check.translations(data, locales, {"title": 200})
    questions = _questions(data, check, locales)
    bank = len(data["questions"]) if isinstance(data.get("questions"), YList) else len(questions)
    draw = check.number(data, "draw", default=bank, integer=True, minimum=1)
    if "questions" in data and isinstance(data["questions"], YList) and not data["questions"]:
        check.error(check.line_of(data, "questions"), "the quiz has no questions")
    if draw is not None and bank and draw > bank:
        check.error(check.line_of(data, "draw"), f"draw is {draw} but the bank has only {bank} question(s)")
    if len(errors) > before:
        return None
    return QuizSpec(slug=slug, title=title, draw=draw, attempts=attempts, pass_mark=float(pass_mark),
                    time_limit_minutes=time_limit, questions=questions, translations=translations)


def _questions(data: YMap, check: FileChecker, locales: list[str]) -> list[QuestionSpec]:
    items = data.get("questions")
    if items is None or "questions" not in data:
        return []
    if not isinstance(items, YList):
        check.error(check.line_of(data, "questions"), "'questions' must be a list")
        return []
    result: list[QuestionSpec] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        question = check.mapping(item, f"question {index + 1}", items.lines[index])
        if question is None:
            continue
        spec = _question(question, check, locales, index + 1)
        if spec is None:
            continue
        if spec.key in seen:
            check.error(check.line_of(question, "id"), f"duplicate question id '{spec.key}' "
                                                       f"(first on line {seen[spec.key]})")
            continue
        seen[spec.key] = check.line_of(question, "id")
        result.append(spec)
    return result


def _question(q: YMap, check: FileChecker, locales: list[str], number: int) -> QuestionSpec | None:
    before = len(check.errors)
    where = f"question {number}"
    check.keys(q, where, QUESTION_REQUIRED, QUESTION_OPTIONAL)
    key = q.get("id")
    if key is not None and (not isinstance(key, (str, int)) or isinstance(key, bool)
                            or not SLUG_RE.match(str(key).lower())):
        check.error(check.line_of(q, "id"), f"question id {key!r} must be a short slug such as q1")
    kind = q.get("type")
    if "type" in q and kind not in KINDS:
        check.error(check.line_of(q, "type"), f"question type {kind!r} is not one of {', '.join(KINDS)}")
        kind = None
    prompt = check.text(q, "prompt", max_len=5000)
    explanation = check.text(q, "explanation", required=False, max_len=5000)
    points = check.number(q, "points", default=1.0, minimum=0.01, maximum=1000)
    options = _options(q, check, kind)
    tolerance = 0.0
    if "tolerance" in q:
        if kind != "numeric":
            check.error(check.line_of(q, "tolerance"), "'tolerance' applies only to numeric questions")
        tolerance = check.number(q, "tolerance", default=0.0, minimum=0)
    answer = _answer(q, check, kind, options) if kind and "answer" in q else None
    translations = _question_translations(q, check, locales, kind, options)
    if len(check.errors) > before:
        return None
    return QuestionSpec(key=str(key), kind=kind, prompt=prompt, options=options, answer=answer,
                        tolerance=float(tolerance or 0.0), explanation=explanation, points=float(points),
                        translations=translations)


def _options(q: YMap, check: FileChecker, kind: str | None) -> list[str]:
    if kind in ("numeric", "text"):
        if "options" in q:
            check.error(check.line_of(q, "options"), f"'options' do not apply to {kind} questions")
        return []
    if kind is None:
        return []
    value = q.get("options")
    if value is None:
        check.error(q.line, f"{kind} questions need 'options' (a list of at least two choices)")
        return []
    if not isinstance(value, YList) or len(value) < 2:
        check.error(check.line_of(q, "options"), "'options' must be a list of at least two choices")
        return []
    options: list[str] = []
    for index, option in enumerate(value):
        if isinstance(option, (int, float)) and not isinstance(option, bool):
            option = str(option)
        if not isinstance(option, str) or not option.strip():
            check.error(value.lines[index], f"option {index} must be non-empty text")
            continue
        if option.strip() in options:
            check.error(value.lines[index], f"option {index} repeats an earlier option")
        options.append(option.strip())
    return options


def _answer(q: YMap, check: FileChecker, kind: str, options: list[str]):
    answer, line = q["answer"], check.line_of(q, "answer")

    def index_ok(value) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            check.error(line, f"answer {value!r} must be an option index (0 for the first option)")
            return False
        if options and not 0 <= value < len(options):
            check.error(line, f"answer index {value} is out of range (options 0..{len(options) - 1})")
            return False
        return True

    if kind == "single":
        return answer if index_ok(answer) else None
    if kind == "multiple":
        if not isinstance(answer, YList) or not answer:
            check.error(line, "answer of a multiple-choice question must be a non-empty list of option indexes")
            return None
        if len(set(map(repr, answer))) != len(answer):
            check.error(line, "answer lists the same option twice")
        return sorted(a for a in answer if index_ok(a))
    if kind == "numeric":
        if isinstance(answer, bool) or not isinstance(answer, (int, float)):
            check.error(line, f"answer of a numeric question must be a number, got {answer!r}")
            return None
        return answer
    accepted = [answer] if isinstance(answer, str) else answer
    if not isinstance(accepted, YList | list) or not accepted or not all(
            isinstance(a, (str, int, float)) and not isinstance(a, bool) and str(a).strip() for a in accepted):
        check.error(line, "answer of a text question must be a list of accepted answers (non-empty text)")
        return None
    return [str(a).strip() for a in accepted]


def _question_translations(q: YMap, check: FileChecker, locales: list[str], kind, options) -> dict:
    block = q.get("translations")
    if block is None:
        return {}
    block = check.mapping(block, "'translations'", check.line_of(q, "translations"))
    if block is None:
        return {}
    result: dict[str, dict] = {}
    for locale, entry in block.items():
        line = block.lines[locale]
        if locale not in locales:
            check.error(line, f"unknown locale '{locale}' in translations (allowed: {', '.join(locales)})")
            continue
        entry = check.mapping(entry, f"translations.{locale}", line)
        if entry is None:
            continue
        check.keys(entry, f"translations.{locale}", set(), {"prompt", "explanation", "options", "answer"})
        out: dict = {f: check.text(entry, f, max_len=5000) for f in ("prompt", "explanation") if f in entry}
        if "options" in entry:
            given = entry["options"]
            if not isinstance(given, YList) or len(given) != len(options) or not all(
                    isinstance(o, str) and o.strip() for o in given):
                check.error(check.line_of(entry, "options"), f"translated options must be a list of "
                                                             f"{len(options)} texts, one per option, in order")
            else:
                out["options"] = [o.strip() for o in given]
        if "answer" in entry:
            given = entry["answer"]
            if kind != "text":
                check.error(check.line_of(entry, "answer"), "only text questions take translated answers")
            elif not isinstance(given, YList) or not all(isinstance(a, str) and a.strip() for a in given):
                check.error(check.line_of(entry, "answer"), "translated answer must be a list of accepted texts")
            else:
                out["answer"] = [a.strip() for a in given]
        result[locale] = out
    return result
