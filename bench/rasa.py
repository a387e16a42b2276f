"""The Rasa action server: requests a second and latency of `action_check_eligibility`, against a
trivial rasa-sdk action served by the same server in the same run.

`python -m bench rasa` starts the server in a process of its own (`bench/rasa_server_process.py`,
the shipped offers judged as on 2021-09-15, no database) so that this process, the load
generator, has the other core. `CLIENTS` clients in a closed loop (each sends its next request
when the answer to the last one is in, over a kept-alive connection) post to `/webhook` what Rasa
posts: a tracker whose slots answer every question, and a minimal domain. The actions take turns
for `ROUNDS` stretches of `SECONDS` each, after a warm-up, so that a drift of the machine's load
falls on all of them alike. Before anything is timed, each answer is checked (status 200 and the
events and sentences expected): a benchmark of error answers would be worthless.

Printed per action: requests a second, p50 and p99 of the latency (from sending a request to the
end of its answer) and the server's CPU time per request (from /proc); then the check action's
rate over the trivial one's (the aim is 0.5 or more). The trivial action utters one fixed
sentence: what rasa-sdk and Sanic cost by themselves. Figures only, nothing is asserted on them.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import statistics
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .broadcast import cpu_seconds, ratio

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 16
ROUNDS = 3
SECONDS = 3.0  # per action and round
WARM_UP = 1.0  # seconds per action before the first round
READY = 30.0  # seconds the server may take to start
SLOTS = {
    "language": "fr", "programs": [], "birth_date": "1998-05-20", "education": "master_in_progress",
    "relevant_experience_years": 1, "iom_interest": True, "citizenship": "canadian", "quebec_domicile": True,
    "quebec_resident_since": "2005-01-01", "french_writing": "excellent", "english_writing": "good",
    "prior_psoig_internship": False,
}  # fmt: skip
ACTIONS = {  # action: the latest message's text
    "action_trivial": "",
    "action_check_eligibility": "",
    "action_answer_faq": "quelle est l'allocation?",
}
TRIVIAL, CHECK = "action_trivial", "action_check_eligibility"


def payload(action: str, text: str) -> bytes:
    """The body Rasa posts to run `action` (encoded once: the client's own cost stays small)."""
    tracker: dict[str, Any] = {
        "sender_id": "u1", "slots": SLOTS, "latest_message": {"text": text, "entities": [], "intent": {}},
        "events": [], "active_loop": {}, "latest_action_name": None,
    }  # fmt: skip
    call = {"next_action": action, "sender_id": "u1", "version": "3.21.1", "domain": {"slots": {}, "forms": {}}}
    return json.dumps({**call, "tracker": tracker}).encode()


@dataclass
class Figures:
    """One action over every round."""

    requests: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0  # seconds
    client_cpu: float = 0.0  # seconds of this process
    latencies: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)  # one per round

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu(self) -> float:
        """Seconds of the server's CPU per request."""
        return self.server_cpu / self.requests if self.requests else 0.0

    def percentile(self, share: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[share - 1]


class ServerProcess:
    """`bench/rasa_server_process.py`: started, its port read, stopped by closing its stdin."""

    def __init__(self, profile: str | None = None) -> None:
        self.profile = profile
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> int:
        command = [sys.executable, "-m", "bench.rasa_server_process"]
        command += ["--profile", self.profile] if self.profile else []
        self.process = await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), READY)
        if not line:
            raise RuntimeError(f"the action server exited with {await self.process.wait()}")
        return int(json.loads(line)["port"])

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


class Connection:
    """One kept-alive HTTP/1.1 connection, the leanest client: aiohttp's own cost per request is
    about the trivial action's, so with it the load generator's core, not the server, set the pace."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def post(self, request: bytes) -> tuple[int, bytes]:
        """Status and body of the answer to a whole request (`request()`)."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        _, found, rest = head.lower().partition(b"\r\ncontent-length:")
        if not found:
            raise RuntimeError(f"an answer without Content-Length: {head!r}")
        return int(head[9:12]), await self.reader.readexactly(int(rest.split(b"\r\n", 1)[0]))

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def request(port: int, body: bytes) -> bytes:
    head = f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


async def check(connection: Connection, action: str, request: bytes) -> str:
    """One request, its answer checked as Rasa would read it; a summary of what it said."""
    status, body = await connection.post(request)
    assert status == 200, f"{action}: status {status}: {body[:300]!r}"
    result: dict[str, Any] = json.loads(body)
    events = {e["name"]: e["value"] for e in result["events"] if e.get("event") == "slot"}
    responses = [r["text"] for r in result["responses"]]
    if action == CHECK:
        verdicts = events.get("eligibility_results")
        assert isinstance(verdicts, dict) and len(verdicts) == 2, f"{action}: {result}"
        assert len(responses) >= 2, f"{action}: {responses}"
        return ", ".join(f"{offer} {status}" for offer, status in verdicts.items())
    if action == "action_answer_faq":
        assert events.get("faq_topic"), f"{action}: no topic: {result}"
        return f"topic {events['faq_topic']}"
    assert responses == ["Bonjour !"] and not result["events"], f"{action}: {result}"
    return "one fixed sentence"


async def load(connections: list[Connection], request: bytes, seconds: float) -> tuple[list[float], float]:
    """A client per connection in a closed loop for `seconds`: every latency, and the time they took."""
    latencies: list[float] = []
    failures: list[int] = []
    start = time.perf_counter()
    deadline = start + seconds

    async def client(connection: Connection) -> None:
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            status, _ = await connection.post(request)
            latencies.append(time.perf_counter() - sent)
            if status != 200:
                failures.append(status)

    await asyncio.gather(*(client(connection) for connection in connections))
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests while measuring (status {failures[0]})")
    return latencies, time.perf_counter() - start


async def measure(
    actions: Iterable[str] = ACTIONS, profile: str | None = None
) -> tuple[dict[str, str], dict[str, Figures]]:
    """What each action answered, and its figures over every round."""
    server = ServerProcess(profile)
    connections: list[Connection] = []
    try:
        port = await server.start()
        assert server.process is not None
        pid = server.process.pid
        requests = {action: request(port, payload(action, ACTIONS[action])) for action in actions}
        connections = [await Connection.open(port) for _ in range(CLIENTS)]
        said = {action: await check(connections[0], action, sent) for action, sent in requests.items()}
        for sent in requests.values():
            await load(connections, sent, WARM_UP)
        figures = {action: Figures() for action in requests}
        for _ in range(ROUNDS):
            for action, sent in requests.items():
                server_cpu, client_cpu = cpu_seconds(pid), time.process_time()
                latencies, seconds = await load(connections, sent, SECONDS)
                mine = figures[action]
                mine.server_cpu += cpu_seconds(pid) - server_cpu
                mine.client_cpu += time.process_time() - client_cpu
                mine.requests += len(latencies)
                mine.seconds += seconds
                mine.latencies += latencies
                mine.rates.append(len(latencies) / seconds)
    finally:
        for connection in connections:
            await connection.close()
        await server.stop()
    return said, figures


def main() -> None:
    if importlib.util.find_spec("rasa_sdk") is None:
        print("Rasa action server: skipped, rasa-sdk is not installed (pip install '.[rasa]')")
        return
    started, average = time.perf_counter(), os.getloadavg()[0]
    said, figures = asyncio.run(measure())
    print(
        f"Rasa action server (rasa-sdk's app, one process, one loop) and {CLIENTS} clients in a closed loop in another"
        f" process; {ROUNDS} rounds of {SECONDS:.0f} s per action, taking turns"
    )
    for action, summary in said.items():
        print(f"  {action} answered: {summary}")
    print(f"{'':<26} {'requests/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'server CPU/request':>19} {'rate per round':>15}")
    for action, figure in figures.items():
        rounds = f"{min(figure.rates):.0f}-{max(figure.rates):.0f}"
        print(
            f"{action:<26} {figure.rate:10.0f} {figure.percentile(50) * 1e3:7.1f} {figure.percentile(99) * 1e3:7.1f}"
            f" {figure.cpu * 1e3:16.2f} ms {rounds:>15}"
        )
    trivial, checking = figures[TRIVIAL], figures[CHECK]
    print(
        f"check / trivial: rate ×{ratio(checking.rate, trivial.rate):.2f} (aim 0.5 or more),"
        f" p99 ×{ratio(checking.percentile(99), trivial.percentile(99)):.1f},"
        f" server CPU per request ×{ratio(checking.cpu, trivial.cpu):.1f}"
    )
    client = ", ".join(f"{f.client_cpu / f.seconds:.2f} with {action}" for action, f in figures.items())
    print(f"load generator's CPU, of one core: {client}")
    print(
        f"load average (1 min) {average:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()}"
        f" CPUs; took {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
