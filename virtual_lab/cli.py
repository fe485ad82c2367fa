"""Command line: scenarios, replay to JSONL, ground truth, run one line, serve many, run the broker."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading


def _common(p: argparse.ArgumentParser, duration: bool = True) -> None:
    p.add_argument("--scenario", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--trainee", required=True)
    if duration:
        p.add_argument("--duration", type=float, default=None, help="simulated seconds (default: the scenario's)")


def _duration(args) -> float:
    from .scenarios import load_scenario

    return args.duration if args.duration is not None else load_scenario(args.scenario)["duration_s"]


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def cmd_scenarios(_args) -> int:
    from .scenarios import list_scenarios

    for s in list_scenarios():
        answer = " (known answer)" if s["known_answer"] else ""
        print(f"{s['name']:<18} {s['duration_s']:>7.0f} s  {s['title']}{answer}")
    return 0


def cmd_replay(args) -> int:
    from . import replay
    from .topics import encode

    out = open(args.output, "w", encoding="utf-8") if args.output not in (None, "-") else sys.stdout
    try:
        for r in replay(args.scenario, seed=args.seed, trainee=args.trainee, duration_s=_duration(args)):
            out.write(json.dumps({"t_ms": r["t_ms"], "topic": r["topic"]}, separators=(",", ":"))[:-1]
                      + ',"payload":' + encode(r["payload"]).decode() + "}\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def cmd_ground_truth(args) -> int:
    from . import ground_truth, kpis

    truth = ground_truth(args.scenario, seed=args.seed, trainee=args.trainee, duration_s=_duration(args))
    print(json.dumps(truth, indent=2))
    if args.kpis:
        print(json.dumps(kpis(args.scenario, seed=args.seed, trainee=args.trainee, duration_s=_duration(args)), indent=2))
    return 0


def cmd_run_line(args) -> int:
    from .service import LabService

    service = LabService().start()
    info = service.start_line(args.trainee, args.scenario, args.seed, speed=args.speed, duration_s=args.duration)
    print(f"line running: {info['topic_root']} (speed x{info['speed']:g}); Ctrl-C to stop", flush=True)
    _wait_for_signal()
    service.close()
    return 0


def cmd_serve(args) -> int:
    from . import settings as lab_settings
    from .broker import start_broker
    from .control import make_server, serve_in_thread
    from .service import LabService

    s = lab_settings.load()
    with contextlib.ExitStack() as started:  # a failed start stops what already runs (no orphaned broker)
        broker = None if args.no_broker else start_broker(s)
        if broker:
            started.callback(broker.stop)
        token = s.control_token or _token_file(s)
        service = LabService(s, default_speed=args.speed).start()
        started.callback(service.close)
        server = make_server(service, s.control_host, s.control_port, token)
        serve_in_thread(server)
        started.callback(server.shutdown)
        kind = broker.kind if broker else "external"
        print(f"virtual lab: broker {kind} on {s.mqtt_host}:{s.mqtt_port}, control http://{s.control_host}:"
              f"{s.control_port} (token in NIA_SIM_CONTROL_TOKEN or {s.state_dir / 'control-token'})", flush=True)
        _wait_for_signal()
    return 0


def _token_file(s) -> str:
    import secrets

    path = s.state_dir / "control-token"
    s.state_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def cmd_broker(args) -> int:
    from . import settings as lab_settings
    from .broker import start_broker

    s = lab_settings.load()
    broker = start_broker(s, None if args.kind == "auto" else args.kind)
    print(f"{broker.kind} broker on {s.mqtt_host}:{s.mqtt_port} (state {s.state_dir}); Ctrl-C to stop", flush=True)
    try:
        _wait_for_signal()
    finally:
        broker.stop()
    return 0


def cmd_credentials(args) -> int:
    from .broker import credentials_for

    print(json.dumps(credentials_for(args.trainee), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m virtual_lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("scenarios", help="list scenarios").set_defaults(func=cmd_scenarios)
    p = sub.add_parser("replay", help="replay a line offline to JSONL")
    _common(p)
    p.add_argument("-o", "--output", default="-")
    p.set_defaults(func=cmd_replay)
    p = sub.add_parser("ground-truth", help="print the injected faults of a run")
    _common(p)
    p.add_argument("--kpis", action="store_true", help="also print the true OEE per machine")
    p.set_defaults(func=cmd_ground_truth)
    p = sub.add_parser("run-line", help="run one live line through the broker")
    _common(p)
    p.add_argument("--speed", type=float, default=1.0)
    p.set_defaults(func=cmd_run_line)
    p = sub.add_parser("serve", help="broker + multi-tenant service + HTTP control channel")
    p.add_argument("--no-broker", action="store_true", help="use a broker started elsewhere")
    p.add_argument("--speed", type=float, default=1.0, help="default speed factor of new lines")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("broker", help="run only the broker")
    p.add_argument("--kind", choices=("auto", "mosquitto", "embedded"), default="auto")
    p.set_defaults(func=cmd_broker)
    p = sub.add_parser("credentials", help="register a trainee and print its MQTT credentials")
    p.add_argument("trainee")
    p.set_defaults(func=cmd_credentials)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
