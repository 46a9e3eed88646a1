"""The forecast endpoint under load: ``POST /api/v1/forecast`` on the demo clinic, 100 concurrent clients.

Starts ``wearoff serve --workers W`` on a freshly seeded demo clinic (SQLite) in its own process group, takes an
API token, and drives the server with ``CLIENTS`` concurrent asyncio clients, each on its own keep-alive HTTP/1.1
connection (a minimal client on asyncio streams: a general-purpose client costs more CPU than the server it
measures), sending forecasts of varied treatments (products, areas, units, sexes, activities drawn from the
catalogue with a seed):

1. **saturation** (closed loop): every client sends its next request as soon as the last one is answered, for
   ``--seconds``: the most forecasts a second the server gives, and the latencies at that load;
2. **at 300 forecasts/s** (open loop): the clients together send 300 requests a second (Poisson arrivals), the
   load the target names, for ``--seconds``: the latencies a clinic would see at that rate.

The reference measured in the same run is ``GET /healthz`` at saturation (the HTTP stack without a forecast);
the ratios of the forecast's throughput to it, and of each figure to its target (p99 < 50 ms, >= 300 forecasts a
second), are printed. The clients run on the same machine and take CPU from the server: the figures are a floor.

    python benchmarks/web_load.py [--workers CORES] [--seconds 15] [--clients 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from wearoff.web.demo import DEMO_USERS

CLIENTS = 100
TARGET_RATE = 300.0
TARGET_P99_MS = 50.0


ADMIN = next(u for u in DEMO_USERS if u[2] == "admin")
"""The demo clinic's administrator: user name, display name, role, password."""


def _wearoff() -> str:
    return str(Path(sys.executable).with_name("wearoff"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _treatments(n: int, seed: int) -> list[dict]:
    """Varied forecast requests: catalogue products and areas at typical doses."""
    from wearoff.catalog import load_catalog

    catalog = load_catalog()
    rng = np.random.default_rng(seed)
    products = ["onabotulinumtoxinA", "abobotulinumtoxinA", "incobotulinumtoxinA", "daxibotulinumtoxinA"]
    areas = ["glabellar", "forehead", "lateral_canthal", "masseter", "platysma"]
    out = []
    for _ in range(n):
        product, area = str(rng.choice(products)), str(rng.choice(areas))
        sex = "male" if rng.random() < 0.15 else "female"
        a = catalog.area(area)
        typical = a.typical_units_male if sex == "male" else a.typical_units_female
        ona = rng.uniform(typical.low, typical.high)
        units = round(ona / catalog.product(product).ona_units_per_unit.value, 1)
        out.append(
            {
                "product": product,
                "area": area,
                "units": units,
                "sex": sex,
                "activity": str(rng.choice(["low", "moderate", "high"])),
                "prior_treatments": int(rng.integers(0, 4)),
            }
        )
    return out


class Connection:
    """One keep-alive HTTP/1.1 connection: send a request, read the status and the body (Content-Length)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def request(self, raw: bytes) -> int:
        self.writer.write(raw)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def _post(path: str, body: dict, token: str) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


def _summary(label: str, latencies: list[float], seconds: float, errors: int) -> dict[str, float]:
    ms = np.array(latencies) * 1000.0
    rate = len(latencies) / seconds
    p50, p99 = (float(np.percentile(ms, q)) for q in (50, 99))
    print(
        f"  {label:30s} {rate:7.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
        f"({len(latencies)} answered, {errors} errors)"
    )
    return {"rate": rate, "p50": p50, "p99": p99}


async def _closed_loop(
    port: int, requests: list[bytes], seconds: float, clients: int
) -> tuple[list[float], int, float]:
    """Every client sends its next request as soon as the last is answered."""
    latencies: list[float] = []
    errors = 0
    connections = [await Connection.open(port) for _ in range(clients)]
    begin = time.perf_counter()
    stop = begin + seconds

    async def one(k: int) -> None:
        nonlocal errors
        i = k
        while time.perf_counter() < stop:
            start = time.perf_counter()
            status = await connections[k].request(requests[i % len(requests)])
            latencies.append(time.perf_counter() - start)
            errors += status != 200
            i += clients

    await asyncio.gather(*(one(k) for k in range(clients)))
    took = time.perf_counter() - begin
    for c in connections:
        c.close()
    return latencies, errors, took


async def _open_loop(
    port: int, requests: list[bytes], seconds: float, clients: int, rate: float, seed: int
) -> tuple[list[float], int, float]:
    """The clients together send ``rate`` requests a second at Poisson times, whatever the answers take."""
    latencies: list[float] = []
    errors = 0
    rng = np.random.default_rng(seed)
    connections = [await Connection.open(port) for _ in range(clients)]
    begin = time.perf_counter()

    async def one(k: int) -> None:
        nonlocal errors
        due = begin + rng.exponential(clients / rate)
        i = k
        while due < begin + seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            start = time.perf_counter()
            status = await connections[k].request(requests[i % len(requests)])
            latencies.append(time.perf_counter() - start)
            errors += status != 200
            due += rng.exponential(clients / rate)
            i += clients

    await asyncio.gather(*(one(k) for k in range(clients)))
    took = time.perf_counter() - begin
    for c in connections:
        c.close()
    return latencies, errors, took


async def _run(port: int, token: str, seconds: float, clients: int) -> None:
    forecasts = [_post("/api/v1/forecast", body, token) for body in _treatments(4096, seed=1)]
    health = [b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"]
    await _closed_loop(port, forecasts, 2.0, clients)  # warm every worker
    print(f"{clients} concurrent clients, {seconds:g} s a phase")
    reference = _summary("GET /healthz, saturation", *_reorder(await _closed_loop(port, health, seconds, clients)))
    saturated = _summary("POST /forecast, saturation", *_reorder(await _closed_loop(port, forecasts, seconds, clients)))
    paced = _summary(
        f"POST /forecast, {TARGET_RATE:.0f}/s offered",
        *_reorder(await _open_loop(port, forecasts, seconds, clients, TARGET_RATE, seed=2)),
    )
    print(f"  forecasts/s at saturation / the {TARGET_RATE:.0f}/s target: {saturated['rate'] / TARGET_RATE:.2f}")
    print(
        f"  p99 at {TARGET_RATE:.0f}/s offered / the {TARGET_P99_MS:.0f} ms target: {paced['p99'] / TARGET_P99_MS:.2f}"
    )
    print(f"  forecast throughput / /healthz throughput (reference): {saturated['rate'] / reference['rate']:.2f}")


def _reorder(result: tuple[list[float], int, float]) -> tuple[list[float], float, int]:
    latencies, errors, seconds = result
    return latencies, seconds, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wearoff-load-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        subprocess.run([_wearoff(), "demo", "seed", "--database-url", url], check=True, stdout=subprocess.DEVNULL)
        port = _free_port()
        server = subprocess.Popen(
            [_wearoff(), "serve", "--database-url", url, "--port", str(port), "--workers", str(args.workers)],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            else:
                raise SystemExit("the server did not start")
            token = httpx.post(
                f"{base}/api/v1/auth/token", json={"username": ADMIN[0], "password": ADMIN[3], "name": "load"}
            )
            token.raise_for_status()
            print(f"wearoff serve --workers {args.workers} on the demo clinic ({os.cpu_count()} cores)")
            asyncio.run(_run(port, token.json()["token"], args.seconds, args.clients))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
