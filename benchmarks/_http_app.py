"""WSGI entry for benchmarks/http: the real LMS (configured from NIA_* environment variables, as in production)
plus a hello-world endpoint served by the same app and server, the baseline every figure is divided by.

    gunicorn 'benchmarks._http_app:build_app()'
"""
from __future__ import annotations

from flask import Blueprint, Flask

HELLO_PATH = "/_bench/hello"

hello = Blueprint("bench_hello", __name__)


@hello.get(HELLO_PATH)
def hello_world():
    return "Hello, world!\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


def build_app(config: dict | None = None) -> Flask:
    from lms import create_app

    application = create_app(config)
    application.register_blueprint(hello)
    return application

