"""Driving a running sandbox from tests and benchmarks (a plain HTTP client of /control)."""

from __future__ import annotations

import json
import urllib.request


def control(server, path: str, payload=None, method: str = "POST"):
    """Call ``/control{path}`` on a running sandbox and return the decoded JSON answer."""
    data = json.dumps(payload or {}).encode()
    req = urllib.request.Request(server.url + "/control" + path, method=method, data=data,  # noqa: S310
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - local sandbox URL
        return json.loads(resp.read() or b"null")
