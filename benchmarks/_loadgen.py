"""Closed-loop HTTP load generator used when `wrk` is not installed: N connections, each sending the next request as
soon as the previous answer is read, for a fixed time. Runs in its own process (one event loop, no threads) and
prints one JSON line: {"requests", "errors", "non_2xx", "seconds", "rps", "p50_ms", "p99_ms"}.

    python -m benchmarks._loadgen URL --connections 50 --seconds 10 [--header "Name: value"]...
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from urllib.parse import urlsplit

from benchmarks._util import percentile


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; return (status, server keeps the connection open)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length, chunked, keep = None, False, True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            keep = False
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()  # body until close
        keep = False
    return status, keep


async def _worker(host: str, port: int, request: bytes, stop_at: float, latencies: list[float],
                  counts: dict[str, int]) -> None:
    reader = writer = None
    while time.perf_counter() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            started = time.perf_counter()
            writer.write(request)
            await writer.drain()
            status, keep = await _read_response(reader)
            latencies.append(time.perf_counter() - started)
            counts["requests"] += 1
            if not 200 <= status < 400:
                counts["non_2xx"] += 1
            if not keep:
                writer.close()
                reader = writer = None
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
            counts["errors"] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


async def run(url: str, connections: int, seconds: float, headers: list[str]) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", "Accept: */*", *headers, "", ""]
    request = "\r\n".join(lines).encode("latin-1")
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0, "non_2xx": 0}
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(_worker(host, port, request, stop_at, latencies, counts) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return {**counts, "seconds": round(elapsed, 3), "rps": counts["requests"] / elapsed,
            "p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._loadgen")
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args.url, args.connections, args.seconds, args.header))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
