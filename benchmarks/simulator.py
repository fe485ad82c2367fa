"""Simulator benchmark: `python -m benchmarks.simulator [--quick]`.

1. Throughput: messages/s the simulator service sustains through our own mosquitto, as a ratio to a raw paho
   publish loop of same-sized JSON messages through the same broker in the same run (goal >= 0.5). Both are
   measured at a subscriber (published -> broker -> received), so the broker's cost counts for both.
2. Real time: how many lines of 5 machines at speed 1 (1 Hz telemetry) one service process holds with every tick
   published less than 1 s late (goal >= 200).
3. Replay: offline replay of an 8 h shift, as a multiple of real time (goal >= 10,000x).
Ratios only: absolute rates depend on the machine.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


from virtual_lab import replay, settings
from virtual_lab.broker import service_credentials, start_broker
from virtual_lab.broker.mosquitto import MosquittoBroker
from virtual_lab.broker.process import free_port
from virtual_lab.service import LabService
from virtual_lab.transport import connect, make_client


class Counter:
    """Counts messages at a separate subscriber process (mosquitto_sub, one line per message), so the subscriber
    never competes with the publisher for this process's GIL and both measurements see the same receiver."""

    def __init__(self, creds: dict, topic_filter: str) -> None:
        self.count = 0
        self.process = subprocess.Popen(
            ["mosquitto_sub", "-h", creds["host"], "-p", str(creds["port"]), "-u", creds["username"],
             "-P", creds["password"], "-t", topic_filter, "-q", "0", "-i", f"bench-sub-{time.monotonic_ns()}"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        time.sleep(0.5)  # let it subscribe

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            chunk = stream.read(1 << 16)
            if not chunk:
                return
            self.count += chunk.count(b"\n")

    def wait_for(self, target: int, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        last, last_change = -1, time.monotonic()
        while self.count < target and time.monotonic() < deadline:
            if self.count != last:
                last, last_change = self.count, time.monotonic()
            elif time.monotonic() - last_change > 2.0:
                break  # nothing more is coming
            time.sleep(0.002)
        return last_change if self.count < target else time.monotonic()

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(5)


def raw_paho_rate(creds: dict, n: int) -> float:
    sub = Counter(creds, "nia/v1/bench-raw/#")
    pub = make_client("bench-raw", creds["username"], creds["password"])
    connect(pub, creds["host"], creds["port"])
    payload = (b'{"ts_ms":1767592800000,"seq":1,"temperature_c":225.123,"vibration_mm_s":2.214,'
               b'"pressure_bar":135.12,"power_kw":18.123}')
    start = time.monotonic()
    for i in range(n):
        pub.publish(f"nia/v1/bench-raw/tko/plant-a/line-1/m{i % 5}/telemetry", payload, qos=0)
    end = sub.wait_for(n, 60)
    received = sub.count
    pub.disconnect(); pub.loop_stop(); sub.close()
    return received / (end - start)


def service_rate(s, lines: int, speed: float, seconds: float) -> tuple[float, float]:
    """Delivered msgs/s (at a subscriber) and the share the service was asked to produce that it managed."""
    service = LabService(s, default_speed=speed).start()
    sub = Counter(service_credentials(s), "nia/v1/#")
    for i in range(lines):
        service.start_line(f"b{i}", "normal-shift", i)
    time.sleep(1.0)
    c0, p0, t0 = sub.count, service.published, time.monotonic()
    time.sleep(seconds)
    c1, p1, t1 = sub.count, service.published, time.monotonic()
    service.close(); sub.close()
    return (c1 - c0) / (t1 - t0), (p1 - p0) / (t1 - t0)


def realtime_lines(s, counts: list[int], seconds: float) -> list[tuple[int, float, float]]:
    results = []
    for n in counts:
        service = LabService(s, default_speed=1.0).start()
        t0 = time.monotonic()
        try:
            for i in range(n):
                service.start_line(f"r{i}", "normal-shift", i)
        except Exception as error:  # noqa: BLE001 - report the limit we hit and stop here
            print(f"  {n:4d} lines: could not start them all ({error}); paho's select() loop cannot use file "
                  "descriptors >= 1024 and each line's connection takes 3, so one service process tops out near "
                  "330 lines (run more service processes beyond that)")
            service.close()
            break
        setup = time.monotonic() - t0
        time.sleep(2.0)
        for running in list(service._lines.values()):
            running.max_lag_s = 0.0  # measure the steady state, not the connection burst
        time.sleep(seconds)
        lag = service.max_lag()
        service.close()
        results.append((n, lag, setup))
        print(f"  {n:4d} lines at 1 Hz: worst tick lateness {lag * 1000:7.1f} ms (connect {setup:.1f} s)", flush=True)
        if lag >= 1.0:
            break
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    args = parser.parse_args(argv)
    if not MosquittoBroker.available() or not shutil.which("mosquitto_sub"):
        print("mosquitto (and mosquitto_sub) not installed: these figures need it (apt-get install mosquitto "
              "mosquitto-clients)")
        return 1
    s = settings.load(mqtt_port=free_port(), state_dir=Path(tempfile.mkdtemp(prefix="nia-bench-")))
    broker = start_broker(s, "mosquitto")
    try:
        creds = service_credentials(s)
        print("1. throughput through mosquitto (pub -> broker -> sub)")
        n = 100_000 if not args.quick else 30_000
        raw = raw_paho_rate(creds, n)
        print(f"  raw paho publish loop      : {raw:10.0f} msg/s")
        delivered, produced = service_rate(s, lines=20, speed=500, seconds=4 if args.quick else 8)
        print(f"  simulator service (20 lines flat out): {delivered:10.0f} msg/s delivered "
              f"({produced:.0f} msg/s produced)")
        print(f"  ratio service / raw        : {delivered / raw:10.2f}   (goal >= 0.5)")
        print("2. lines of 5 machines held in real time (1 tick/s each, worst lateness < 1 s)")
        counts = [50, 100, 200, 300, 400] if not args.quick else [50, 200]
        results = realtime_lines(s, counts, seconds=6 if args.quick else 10)
        held = max((n for n, lag, _ in results if lag < 1.0), default=0)
        print(f"  lines held in real time    : {held:10d}   (goal >= 200)")
    finally:
        broker.stop()
    print("3. offline replay of an 8 h shift (28,800 simulated seconds)")
    for scenario in ("oee-known-shift", "normal-shift"):
        start = time.perf_counter()
        records = replay(scenario, seed=1, trainee="bench", duration_s=28800)
        elapsed = time.perf_counter() - start
        print(f"  {scenario:<16}: {elapsed:6.2f} s for {len(records):,} records = {28800 / elapsed:10.0f}x real time "
              "(goal >= 10,000x, i.e. < 2.9 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
