"""`hr`: a plain HTTP client speaking HR-v1 to the sandbox (credentials added to every call)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from hotelrunner_mcp.sandbox import RunningSandbox


class HR:
    """What any HotelRunner integrator would write: token and hr_id in the query of every call."""

    def __init__(self, sandbox: RunningSandbox, timeout: float = 5.0) -> None:
        self.sandbox = sandbox
        self.auth = {"token": sandbox.token, "hr_id": sandbox.hr_id}
        self.http = httpx2.Client(base_url=sandbox.base_url, timeout=timeout)

    def get(self, path: str, **params: Any) -> httpx2.Response:
        return self.http.get(path, params={**self.auth, **params})

    def put(
        self, path: str, *, form: dict[str, Any] | None = None, json: object = None, **params: Any
    ) -> httpx2.Response:
        return self.http.put(path, params={**self.auth, **params}, data=form, json=json)

    def reservations(self, **params: Any) -> dict[str, Any]:
        response = self.get("/reservations", **params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def hr(sandbox: RunningSandbox) -> Iterator[HR]:
    client = HR(sandbox)
    yield client
    client.http.close()
