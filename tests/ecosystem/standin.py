"""A local stand-in for the OpenAI and Anthropic HTTP APIs, for the client recipes' tests.

Real SDKs (and the instrumentations wrapped around them) call it exactly as they call
the providers; it answers fixed, well-formed bodies, so the spans and callback
payloads those clients emit are the ones they emit in production. Routes:

- ``POST /v1/chat/completions``: OpenAI chat, streamed (SSE) when ``stream`` is set,
  with a usage chunk only when ``stream_options.include_usage`` asks for one, as OpenAI
  does;
- ``POST /v1/responses``: OpenAI Responses (what ``openai-agents`` calls);
- ``POST /v1/messages``: Anthropic Messages, with the ``anthropic-organization-id``
  header the provider sets on every answer.

A request whose last user turn contains ``FAIL`` is answered 500.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ORGANIZATION = "org-standin-7"
_ids = itertools.count(1)
_lock = threading.Lock()


def _next_id(prefix: str) -> str:
    with _lock:
        return f"{prefix}{next(_ids):06d}"


def _chat(body: dict[str, Any]) -> dict[str, Any]:
    calls_tool = bool(body.get("tools"))
    message: dict[str, Any] = {"role": "assistant", "content": "17 is prime."}
    if calls_tool:
        name = body["tools"][0]["function"]["name"]
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": name, "arguments": "{}"}}
            ],
        }
    return {
        "id": _next_id("chatcmpl-"),
        "object": "chat.completion",
        "created": 1_771_804_800,
        "model": body.get("model", "gpt-4o-mini"),
        "system_fingerprint": "fp_standin",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if calls_tool else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 120,
            "completion_tokens": 40,
            "total_tokens": 160,
            "prompt_tokens_details": {"cached_tokens": 64},
            "completion_tokens_details": {"reasoning_tokens": 16},
        },
    }


def _chat_chunks(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    whole = _chat({**body, "tools": None})
    base = {k: whole[k] for k in ("id", "created", "model", "system_fingerprint")}
    base["object"] = "chat.completion.chunk"
    yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "17 "}}]}
    yield {**base, "choices": [{"index": 0, "delta": {"content": "is prime."}}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": whole["usage"]}


def _responses(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _next_id("resp_"),
        "object": "response",
        "created_at": 1_771_804_800,
        "status": "completed",
        "model": body.get("model", "gpt-4o-mini"),
        "output": [
            {
                "type": "message",
                "id": _next_id("msg_"),
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "17 is prime.", "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 90,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 12,
            "output_tokens_details": {"reasoning_tokens": 4},
            "total_tokens": 102,
        },
    }


def _message(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _next_id("msg_standin_"),
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude-opus-4-6"),
        "content": [{"type": "text", "text": "17 is prime."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 200,
            "output_tokens": 50,
            "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 0,
        },
    }


def _last_user_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or body.get("input") or []
    if isinstance(messages, str):
        return messages
    return json.dumps(messages[-1:]) if isinstance(messages, list) else ""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if "FAIL" in _last_user_text(body):
            self._json(500, {"error": {"type": "server_error", "message": "stand-in failure"}})
            return
        path = self.path.split("?", 1)[0]
        if path.endswith("/chat/completions"):
            if body.get("stream"):
                self._sse(_chat_chunks(body))
            else:
                self._json(200, _chat(body))
        elif path.endswith("/responses"):
            self._json(200, _responses(body))
        elif path.endswith("/messages"):
            self._json(200, _message(body), {"anthropic-organization-id": ORGANIZATION})
        else:
            self._json(404, {"error": {"message": f"no route {path}"}})

    def _json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", _next_id("req_"))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, chunks: Iterator[dict[str, Any]]) -> None:
        data = b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serve_standin() -> Iterator[str]:
    """The stand-in on a free loopback port; yields its base URL (no ``/v1``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    import sys
    import time

    with serve_standin() as url:
        print(url, flush=True)
        time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 3600)
