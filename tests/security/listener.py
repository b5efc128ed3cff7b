"""An attacker's HTTP listener on 127.0.0.1: records every request it receives (headers and body)."""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Listener:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                received.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                 "body": self.rfile.read(length).decode("utf-8", "replace")})
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error": "nope"}')

            do_GET = do_POST = do_PUT = _record

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def saw(self, secret: str) -> bool:
        """Did any request carry this secret, in clear or inside a Basic ``Authorization`` header?"""
        texts = [repr(self.requests)]
        for r in self.requests:
            for name, value in r["headers"].items():
                if name.lower() == "authorization" and value.lower().startswith("basic "):
                    texts.append(base64.b64decode(value.split()[-1] + "==").decode("latin-1"))
        return any(secret in t for t in texts)
