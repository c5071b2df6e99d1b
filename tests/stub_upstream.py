"""A scriptable stand-in for HotelRunner on 127.0.0.1 (real HTTP, uvicorn in a thread) for client/gate tests.

Each path answers from its script (first in, first out), else from its pages by the `page` asked (a listing
that answers whatever order its pages are read in), else with a default answer. Every request received is
recorded with its method, path, query pairs and body.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PREFIX = "/api/v2/apps"


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # JSON-able, or str for a raw body
    hang: float = 0.0  # seconds to wait before answering
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: list[tuple[str, str]]
    body: bytes


DEFAULTS: dict[str, Any] = {
    "/rooms": {"rooms": [{"inv_code": "DT", "rate_code": "DT", "name": "Deluxe Triple", "channel_codes": ["online"]}]},
    "/rooms/~": {"status": "ok", "transaction_id": "555000111"},
    "/rooms/daily": {"status": "ok", "transaction_id": "555000222"},
    "/reservations": {"reservations": [], "count": 0, "current_page": 1, "pages": 1},
    "/reservations/~": {"status": "ok"},
    "/reservations/fire": {"status": "ok"},
    "/infos/transaction_details": {"transaction": {"id": "1", "counts": {}, "details": []}},
    "/infos/connected_channels": {"channels": [{"name": "Booking.com", "code": "bookingcom"}]},
    "/infos/channels": {"channels": [{"name": "Booking.com", "code": "bookingcom"}]},
}


class StubUpstream:
    def __init__(self) -> None:
        self.scripts: dict[str, deque[Answer]] = defaultdict(deque)
        self.listings: dict[str, list[Answer]] = {}
        self.seen: list[Seen] = []
        self.base_url = ""

    def script(self, path: str, *answers: Answer) -> None:
        self.scripts[path].extend(answers)

    def pages(self, path: str, *answers: Answer) -> None:
        """Answer `path` with answers[page - 1] for the `page` asked (the last one beyond), when no script is left."""
        self.listings[path] = list(answers)

    def requests(self, path: str | None = None) -> list[Seen]:
        return [s for s in self.seen if path is None or s.path == path]

    async def handle(self, request: Request) -> Response:
        path = request.url.path.removeprefix(PREFIX) or "/"
        self.seen.append(Seen(request.method, path, list(request.query_params.multi_items()), await request.body()))
        if self.scripts[path]:
            answer = self.scripts[path].popleft()
        elif path in self.listings:
            asked = int(request.query_params.get("page", "1"))
            answer = self.listings[path][min(asked, len(self.listings[path])) - 1]
        else:
            answer = Answer(body=DEFAULTS.get(path, {}))
        if answer.hang:
            await asyncio.sleep(answer.hang)
        if isinstance(answer.body, str):
            return Response(answer.body, answer.status, headers=answer.headers, media_type="application/json")
        return JSONResponse(answer.body, answer.status, headers=answer.headers)


@contextmanager
def run_stub() -> Iterator[StubUpstream]:
    stub = StubUpstream()
    app = Starlette(routes=[Route("/{rest:path}", stub.handle, methods=["GET", "PUT", "POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("stub upstream did not start")
        threading.Event().wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    stub.base_url = f"http://127.0.0.1:{port}{PREFIX}"
    try:
        yield stub
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=10)


def query_of(seen: Seen) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for key, value in seen.query:
        grouped[key].append(value)
    return dict(grouped)


def json_of(seen: Seen) -> Any:
    return json.loads(seen.body)
