"""Certificates: verification throughput through the HTTP API (gunicorn, real sockets) as a ratio to in-process
verification of the same distinct credentials in the same run, and issuing 1,000 credentials with PDFs.

    python -m benchmarks.certificates [--credentials 1000] [--verify 300] [--workers 2] [--connections 2]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks._util import cpu_count, free_port, start_server, stop_server, table


def _env(instance: Path, port: int) -> dict[str, str]:
    return {"NIA_ENV": "production", "NIA_SECRET_KEY": "bench-secret-key-0123456789abcdef",
            "NIA_INSTANCE_DIR": str(instance), "NIA_DATABASE_URL": f"sqlite:///{instance}/bench.db",
            "NIA_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "NIA_CERTS_KEY_DIR": str(instance / "keys"),
            "NIA_SESSION_COOKIE_SECURE": "false"}


def _seed(app, count: int, with_pdf: bool) -> tuple[list[dict], float, float]:
    """Issue `count` credentials (through the same operation the completion signal uses), rendering a PDF
    for each; returns the documents, issuance seconds and PDF seconds."""
    from certificates import operations, pdf
    from certificates.keys import generate_key
    from lms.extensions import db
    from lms.models import Course, User

    with app.app_context(), app.test_request_context():
        db.create_all()
        generate_key()
        course = Course(slug="bench-course", title="Benchmark Course", summary="s", recertify_months=24,
                        achievement={"name": "Benchmark Certificate", "criteria": "Everything passed.",
                                     "alignments": [{"name": "PLC programming", "framework": "HKQF"}]})
        db.session.add(course)
        users = [User(email=f"b{i}@example.test", name=f"Learner {i}", password_hash="x") for i in range(count)]
        db.session.add_all(users)
        db.session.commit()
        evidence = [{"type": "lab", "slug": "lab", "title": "Lab", "score": 9, "max_score": 10, "passed": True}]
        docs, issue_seconds, pdf_seconds = [], 0.0, 0.0
        for user in users:
            started = time.perf_counter()
            row = operations.issue_credential(user.id, course.id, evidence)
            db.session.commit()
            issue_seconds += time.perf_counter() - started
            if with_pdf:
                started = time.perf_counter()
                body = pdf.render(row.document, f"http://x/verify?id={row.id}", "en")
                pdf_seconds += time.perf_counter() - started
                assert body.startswith(b"%PDF")
            docs.append(row.document)
        operations.status_list_document("revocation")
        operations.status_list_document("suspension")
        return docs, issue_seconds, pdf_seconds


def _in_process(app, bodies: list[bytes]) -> float:
    from certificates.operations import verify_online

    with app.app_context():
        started = time.perf_counter()
        for body in bodies:
            assert verify_online(body).valid
        return len(bodies) / (time.perf_counter() - started)


def _http(port: int, bodies: list[bytes], connections: int) -> tuple[float, int]:
    chunks = [bodies[i::connections] for i in range(connections)]
    failures = [0]

    def run(chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for body in chunk:
            conn.request("POST", "/api/v1/verify", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            if response.status != 200 or not json.loads(data)["valid"]:
                failures[0] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(bodies) / (time.perf_counter() - started), failures[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.certificates")
    parser.add_argument("--credentials", type=int, default=1000, help="credentials to issue (each with a PDF)")
    parser.add_argument("--verify", type=int, default=300, help="distinct credentials to verify")
    parser.add_argument("--workers", type=int, default=max(1, cpu_count()))
    parser.add_argument("--connections", type=int, default=0, help="concurrent HTTP clients (default: workers)")
    args = parser.parse_args(argv)
    connections = args.connections or args.workers

    instance = Path(tempfile.mkdtemp(prefix="nia-bench-certs-"))
    port = free_port()
    env = _env(instance, port)
    os.environ.update(env)
    from lms import create_app

    app = create_app()
    docs, issue_s, pdf_s = _seed(app, max(args.credentials, args.verify), with_pdf=True)
    bodies = [json.dumps(d).encode() for d in docs[: args.verify]]

    server = start_server([sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(args.workers),
                           "--threads", "1", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "lms:create_app()"],
                          f"http://127.0.0.1:{port}/healthz", env=env, log_path=instance / "gunicorn.log")
    try:
        _http(port, bodies[:10], 1)  # warm the workers (contexts, status lists)
        _in_process(app, bodies[:10])
        before = _in_process(app, bodies)
        http_seq, fail_seq = _http(port, bodies, 1)
        http_par, fail_par = _http(port, bodies, connections)
        inproc = (before + _in_process(app, bodies)) / 2  # baseline measured around the HTTP runs (shared machine)
    finally:
        stop_server(server)
    count = len(docs)
    print(table([
        ["in-process verify_online (baseline)", inproc, 1.0],
        ["HTTP POST /api/v1/verify, 1 connection", http_seq, http_seq / inproc],
        [f"HTTP POST /api/v1/verify, {connections} connections, {args.workers} workers", http_par,
         http_par / inproc],
    ], ["distinct credentials verified", "per second", "ratio to in-process"]))
    print(f"HTTP failures: {fail_seq + fail_par} (must be 0)")
    print(table([
        [f"issue {count} credentials (sign + store + status index)", issue_s, count / issue_s],
        [f"render {count} PDFs (en, QR)", pdf_s, count / pdf_s],
        [f"issue {count} credentials with PDFs", issue_s + pdf_s, count / (issue_s + pdf_s)],
    ], ["issuance", "seconds", "per second"]))
    print(f"goal: HTTP/in-process >= 0.5 -> {'met' if http_seq / inproc >= 0.5 else 'NOT met'} "
          f"(1 connection: {http_seq / inproc:.2f}; {connections} connections: {http_par / inproc:.2f})")
    return 0 if fail_seq + fail_par == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
