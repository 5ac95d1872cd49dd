#!/usr/bin/env python3
"""Validates events captured from a real liveai-server run against
contracts/stream-schema.yaml (JSON Schema 2020-12 inside OpenAPI 3.1).

usage: check_contract.py SERVER_BINARY SCHEMA_YAML
"""
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema
import yaml

CONFIG = """
[server]
heartbeat_interval_ms = 200
log_level = "warn"

[blocks.fast]
provider = "mock"
streaming = true
[blocks.fast.mock]
tokens = 8

[blocks.fail]
provider = "mock"
streaming = true
[blocks.fail.mock]
tokens = 10
fail_after = 3
fail_code = "provider_error"

[blocks.silent]
provider = "mock"
streaming = true
[blocks.silent.mock]
tokens = 2
first_token_delay_ms = 500

[blocks.nousage]
provider = "openai"
model = "local"
streaming = true
[blocks.nousage.openai]
base_url = "http://127.0.0.1:{upstream_port}/v1"
api_key_env = ""

[blocks.nostream]
provider = "mock"
[blocks.nostream.mock]
tokens = 4

[blocks.agent]
provider = "mock"
streaming = true
client_options = ["temperature"]
[blocks.agent.mock]
text = "Checking."
echo_words = 0
reasoning = "Weather needs the tool."
tool_name = "get_weather"
tool_arguments = '{"city": "Paris"}'

[blocks.down]
provider = "mock"
[blocks.down.mock]
fail_after = 0
fail_code = "upstream_unavailable"

[blocks.composed]
fallback = ["down", "fast"]
streaming = true
"""

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


class Contract:
    def __init__(self, path):
        with open(path) as f:
            self.doc = yaml.safe_load(f)
        jsonschema.Draft202012Validator.check_schema({"components": self.doc["components"]})

    def validate(self, schema_name, instance, what):
        schema = {"$ref": f"#/components/schemas/{schema_name}", "components": self.doc["components"]}
        try:
            jsonschema.Draft202012Validator(schema).validate(instance)
            check(what, True)
        except jsonschema.ValidationError as e:
            check(what, False, f"{schema_name}: {e.message} in {instance!r}")


def http(port, method, target, body=None, headers=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    for name, value in (headers or {}).items():
        head += f"{name}: {value}\r\n"
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    s.sendall(head.encode() + b"\r\n" + data)
    raw = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        raw += chunk
    s.close()
    header, _, rest = raw.partition(b"\r\n\r\n")
    lines = header.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        body_bytes = b""
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            body_bytes += rest[:size]
            rest = rest[size + 2:]
        rest = body_bytes
    return status, headers, rest.decode()


def parse_sse(text):
    # As WHATWG: a block without data dispatches no event (its id still counts).
    events, comments, retry = [], [], None
    global last_preamble_id
    last_preamble_id = None
    for block in text.split("\n\n")[:-1]:
        event = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                comments.append(line[1:].strip())
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "retry":
                retry = value
            else:
                event[field] = value
        if "data" in event:
            events.append(event)
        elif "id" in event:
            last_preamble_id = event["id"]
    return events, comments, retry


def check_stream(contract, text, terminal, what):
    events, comments, retry = parse_sse(text)
    check(f"{what}: retry field", retry is not None and retry.isdigit())
    check(f"{what}: has events", len(events) > 0)
    stream_id = events[0]["id"].split(".")[0]
    counts = {}
    for seq, ev in enumerate(events, start=1):
        check(f"{what}: id {seq}", ev["id"] == f"{stream_id}.{seq}", ev["id"])
        payload = json.loads(ev["data"])
        kind = ev["event"]
        last = seq == len(events)
        check(f"{what}: terminal only last", (kind in ("complete", "error")) == last, kind)
        schema = {"chunk": "ChunkEvent", "complete": "CompleteEvent", "error": "ErrorEvent",
                  "reasoning": "ReasoningEvent", "tool_call": "ToolCallEvent"}[kind]
        contract.validate(schema, payload, f"{what}: {kind} event {seq}")
        if kind in ("chunk", "reasoning"):
            counts[kind] = counts.get(kind, -1) + 1
            check(f"{what}: {kind} index", payload["index"] == counts[kind])
    check(f"{what}: ends with {terminal}", events[-1]["event"] == terminal)
    return events, comments


class WebSocket:
    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(1)
        self.status = int(response.split()[1])

    def send(self, obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def receive(self):
        b0, b1 = self._exact(2)
        length = b1 & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._exact(8))[0]
        payload = self._exact(length)
        assert b0 & 0x0F == 1, "expected a text frame"
        return json.loads(payload)


class NoUsageUpstream(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that reports no usage (as llama.cpp and
    vLLM do without stream_options): its stream ends with finish_reason and
    [DONE], byte for byte as such servers send it."""
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        chunk = ('data: {"object":"chat.completion.chunk","model":"local","choices":'
                 '[{"index":0,"delta":{"content":"%s"},"finish_reason":%s}]}\n\n')
        body = (chunk % ("no", "null") + chunk % (" usage", "null") + chunk % ("", '"stop"') + "data: [DONE]\n\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    server_binary, schema_path = sys.argv[1], sys.argv[2]
    contract = Contract(schema_path)
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), NoUsageUpstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(CONFIG.replace("{upstream_port}", str(upstream.server_address[1])))
        config_path = f.name
    proc = subprocess.Popen([server_binary, "--config", config_path, "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = int(line.rsplit(":", 1)[1])

        status, headers, body = http(port, "GET", "/api/stream/ai-block/fast?prompt=hello%20contract")
        check("sse: 200", status == 200)
        check("sse: content type", headers.get("content-type") == "text/event-stream; charset=utf-8")
        check("sse: cache control", headers.get("cache-control") == "no-cache")
        check("sse: x-accel-buffering", headers.get("x-accel-buffering") == "no")
        events, _ = check_stream(contract, body, "complete", "sse get")
        check("sse: 8 chunks", len(events) == 9)

        status, _, body = http(port, "POST", "/api/stream/ai-block/fast", {"prompt": "post"})
        check_stream(contract, body, "complete", "sse post")

        status, _, body = http(port, "GET", "/api/stream/ai-block/fail?prompt=x")
        events, _ = check_stream(contract, body, "error", "sse fail")
        check("fail: provider_error", json.loads(events[-1]["data"])["code"] == "provider_error")

        status, _, body = http(port, "GET", "/api/stream/ai-block/silent?prompt=x")
        _, comments = check_stream(contract, body, "complete", "sse heartbeat")
        check("heartbeat comment", "ping" in comments, comments)

        for target, expected in [("/api/stream/ai-block/nope?prompt=x", 404),
                                 ("/api/stream/ai-block/nostream?prompt=x", 409),
                                 ("/api/stream/ai-block/fast", 400),
                                 ("/nowhere", 404)]:
            status, _, body = http(port, "GET", target)
            check(f"{target}: status", status == expected, status)
            contract.validate("ErrorResponse", json.loads(body), f"{target}: error body")

        status, _, body = http(port, "POST", "/api/ai-block/nostream", {"prompt": "collect me"})
        check("collect: 200", status == 200)
        contract.validate("CollectResponse", json.loads(body), "collect body")

        status, _, body = http(port, "GET", "/api/blocks")
        contract.validate("BlocksResponse", json.loads(body), "blocks body")

        ws = WebSocket(port, "/api/ws/ai-block/fast")
        check("ws: 101", ws.status == 101)
        start = {"type": "start", "prompt": "web socket"}
        contract.validate("WsStart", start, "ws start message")
        ws.send(start)
        while True:
            msg = ws.receive()
            schema = {"chunk": "WsChunk", "complete": "WsComplete", "error": "WsError"}[msg["type"]]
            contract.validate(schema, msg, f"ws {msg['type']}")
            if msg["type"] != "chunk":
                break
        ws.send({"type": "nonsense"})
        contract.validate("WsError", ws.receive(), "ws error message")
        contract.validate("WsCancel", {"type": "cancel"}, "ws cancel message")

        # A provider that reported no usage: null in SSE, WebSocket and collect.
        status, _, body = http(port, "GET", "/api/stream/ai-block/nousage?prompt=hi")
        events, _ = check_stream(contract, body, "complete", "sse no usage")
        check("sse no usage: usage is null", json.loads(events[-1]["data"])["usage"] is None, events[-1]["data"])
        status, _, body = http(port, "POST", "/api/ai-block/nousage", {"prompt": "hi"})
        collected = json.loads(body)
        contract.validate("CollectResponse", collected, "collect no usage")
        check("collect no usage: usage is null", status == 200 and collected["usage"] is None, body)
        ws = WebSocket(port, "/api/ws/ai-block/nousage")
        ws.send({"type": "start", "prompt": "hi"})
        while True:
            msg = ws.receive()
            contract.validate({"chunk": "WsChunk", "complete": "WsComplete", "error": "WsError"}[msg["type"]], msg,
                              f"ws no usage {msg['type']}")
            if msg["type"] != "chunk":
                break
        check("ws no usage: usage is null", msg["type"] == "complete" and msg["usage"] is None, msg)

        # v1.1: a conversation with tools; reasoning and tool_call events; the
        # collect answer assembles them; a composed block names its attempt.
        conversation = {"messages": [{"role": "system", "content": "Be brief."},
                                     {"role": "user", "content": "Weather in Paris?"}],
                        "options": {"temperature": 0.5},
                        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather now",
                                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
                        "tool_choice": "auto"}
        contract.validate("ConversationRequest", conversation, "conversation request")
        status, _, body = http(port, "POST", "/api/stream/ai-block/agent", conversation)
        events, _ = check_stream(contract, body, "complete", "sse conversation")
        kinds = [e["event"] for e in events]
        check("sse conversation: reasoning, chunks, tool calls", "reasoning" in kinds and "tool_call" in kinds, kinds)
        check("sse conversation: finish tool_calls", json.loads(events[-1]["data"])["finish_reason"] == "tool_calls")
        arguments = "".join(json.loads(e["data"])["arguments"] for e in events if e["event"] == "tool_call")
        check("sse conversation: arguments whole", json.loads(arguments) == {"city": "Paris"}, arguments)
        status, _, body = http(port, "POST", "/api/ai-block/agent", conversation)
        collected = json.loads(body)
        contract.validate("CollectResponse", collected, "collect conversation")
        check("collect conversation: tool_calls", collected.get("tool_calls") == [
            {"id": "call_mock_0", "name": "get_weather", "arguments": '{"city": "Paris"}'}], body)
        answer = dict(conversation)
        answer["messages"] = conversation["messages"] + [
            {"role": "assistant", "content": None, "tool_calls": [{"id": "call_mock_0", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
            {"role": "tool", "tool_call_id": "call_mock_0", "content": "18 C"}]
        contract.validate("ConversationRequest", answer, "tool result request")
        status, _, body = http(port, "POST", "/api/stream/ai-block/agent", answer)
        events, _ = check_stream(contract, body, "complete", "sse tool result")
        check("sse tool result: text, stop", json.loads(events[-1]["data"])["finish_reason"] == "stop")
        status, _, body = http(port, "POST", "/api/stream/ai-block/agent", {"prompt": "x", "options": {"seed": 1}})
        check("option not allowed: 400", status == 400, status)
        contract.validate("ErrorResponse", json.loads(body), "option not allowed body")
        ws = WebSocket(port, "/api/ws/ai-block/agent")
        start = {"type": "start", **conversation}
        contract.validate("WsStart", start, "ws conversation start")
        ws.send(start)
        while True:
            msg = ws.receive()
            contract.validate({"chunk": "WsChunk", "complete": "WsComplete", "error": "WsError",
                               "reasoning": "WsReasoning", "tool_call": "WsToolCall"}[msg["type"]], msg, f"ws conversation {msg['type']}")
            if msg["type"] in ("complete", "error"):
                break
        status, _, body = http(port, "GET", "/api/stream/ai-block/composed?prompt=hi")
        events, _ = check_stream(contract, body, "complete", "sse composed")
        done = json.loads(events[-1]["data"])
        check("sse composed: served by the second attempt", done.get("provider") == "mock" and done.get("model") == "mock-1", done)
        status, _, body = http(port, "POST", "/api/ai-block/composed", {"prompt": "hi"})
        contract.validate("CollectResponse", json.loads(body), "collect composed")

        # v1.2: the OpenAI-compatible endpoints, bodies and errors in OpenAI's shape.
        chat = {"model": "agent", "stream": True, "stream_options": {"include_usage": True},
                "messages": conversation["messages"], "tools": conversation["tools"], "tool_choice": "auto",
                "temperature": 0.5}
        contract.validate("OpenAIChatRequest", chat, "openai request")
        status, headers, body = http(port, "POST", "/v1/chat/completions", chat)
        check("openai stream: 200", status == 200, status)
        check("openai stream: content type", headers.get("content-type") == "text/event-stream; charset=utf-8")
        data = [e["data"] for e in parse_sse(body)[0]]
        check("openai stream: ends with [DONE]", data and data[-1] == "[DONE]", data[-1:])
        for d in data[:-1]:
            contract.validate("OpenAIChatChunk", json.loads(d), "openai chunk")
        finishes = [c["finish_reason"] for d in data[:-1] for c in json.loads(d)["choices"] if c["finish_reason"]]
        check("openai stream: finish tool_calls", finishes == ["tool_calls"], finishes)
        check("openai stream: usage chunk", json.loads(data[-2]).get("usage") is not None, data[-2])
        status, _, body = http(port, "POST", "/v1/chat/completions", {"model": "fail", "stream": True,
                                                                      "messages": [{"role": "user", "content": "x"}]})
        data = [e["data"] for e in parse_sse(body)[0]]
        check("openai failed stream: no [DONE]", "[DONE]" not in data, data[-1:])
        contract.validate("OpenAIErrorResponse", json.loads(data[-1]), "openai failed stream: last event")
        for d in data[:-1]:
            contract.validate("OpenAIChatChunk", json.loads(d), "openai failed stream: chunk")
        status, _, body = http(port, "POST", "/v1/chat/completions", {"model": "agent", "messages": chat["messages"],
                                                                      "tools": chat["tools"]})
        contract.validate("OpenAIChatCompletion", json.loads(body), "openai completion")
        status, _, body = http(port, "POST", "/v1/chat/completions", {"model": "nousage",
                                                                      "messages": [{"role": "user", "content": "x"}]})
        completion = json.loads(body)
        contract.validate("OpenAIChatCompletion", completion, "openai completion without usage")
        check("openai completion without usage: absent", "usage" not in completion, body)
        for target, payload, expected in [("/v1/chat/completions", {"model": "gpt-9", "messages": chat["messages"]}, 404),
                                          ("/v1/chat/completions", {"model": "agent", "messages": chat["messages"], "logprobs": True}, 400),
                                          ("/v1/nothing", {}, 404)]:
            status, _, body = http(port, "POST", target, payload)
            check(f"{target} {expected}: status", status == expected, status)
            contract.validate("OpenAIErrorResponse", json.loads(body), f"{target} {expected}: error body")
        status, _, body = http(port, "GET", "/v1/models")
        contract.validate("OpenAIModelList", json.loads(body), "openai models")

        # Resume (additions): opt-in preamble, Last-Event-ID answers, DELETE.
        status, _, body = http(port, "GET", "/api/stream/ai-block/fast?prompt=resume&resumable=1")
        events, _ = check_stream(contract, body, "complete", "sse resumable")
        stream_id = events[0]["id"].split(".")[0]
        check("resumable: preamble id", body.startswith("retry: 2000\nid: " + stream_id + ".0\n\n"), body[:60])
        status, _, body = http(port, "GET", "/api/stream/ai-block/fast?prompt=resume",
                               headers={"Last-Event-ID": f"{stream_id}.4"})
        check("resume: 200", status == 200, status)
        tail, _, _ = parse_sse(body)
        check("resume: continues after 4", [e["id"] for e in tail] == [f"{stream_id}.{n}" for n in range(5, 10)])
        for ev in tail:
            schema = {"chunk": "ChunkEvent", "complete": "CompleteEvent"}[ev["event"]]
            contract.validate(schema, json.loads(ev["data"]), f"resume: {ev['event']} event")
        status, _, body = http(port, "GET", "/api/stream/ai-block/fast?prompt=resume",
                               headers={"Last-Event-ID": f"{stream_id}.9"})
        check("resume of a delivered stream: 204", status == 204 and body == "", status)
        for header, expected, code in [("0123456789abcd00.1", 404, "unknown_stream"),
                                       ("garbage", 400, "invalid_request")]:
            status, _, body = http(port, "GET", "/api/stream/ai-block/fast?prompt=x", headers={"Last-Event-ID": header})
            check(f"resume {header}: {expected}", status == expected, status)
            payload = json.loads(body)
            contract.validate("ErrorResponse", payload, f"resume {header}: error body")
            check(f"resume {header}: {code}", payload["error"]["code"] == code)
        status, _, body = http(port, "DELETE", f"/api/streams/{stream_id}")
        check("delete ended: 200", status == 200, status)
        contract.validate("StopResponse", json.loads(body), "delete body")
        status, _, body = http(port, "DELETE", "/api/streams/0123456789abcd00")
        check("delete unknown: 404", status == 404, status)
        contract.validate("ErrorResponse", json.loads(body), "delete unknown body")

        ws = WebSocket(port, "/api/ws/ai-block/fast")
        start = {"type": "start", "prompt": "resumable socket", "resumable": True}
        contract.validate("WsStart", start, "ws resumable start")
        ws.send(start)
        started = ws.receive()
        contract.validate("WsStarted", started, "ws started")
        messages = []
        while True:
            msg = ws.receive()
            schema = {"chunk": "WsChunk", "complete": "WsComplete", "error": "WsError"}[msg["type"]]
            contract.validate(schema, msg, f"ws resumable {msg['type']}")
            check("ws resumable: has id", "id" in msg)
            messages.append(msg)
            if msg["type"] != "chunk":
                break
        ws2 = WebSocket(port, "/api/ws/ai-block/fast")
        resume = {"type": "resume", "last_event_id": messages[3]["id"]}
        contract.validate("WsResume", resume, "ws resume message")
        ws2.send(resume)
        replayed = []
        while True:
            msg = ws2.receive()
            replayed.append(msg)
            if msg["type"] != "chunk":
                break
        check("ws resume: the rest, once", [m["id"] for m in replayed] == [m["id"] for m in messages[4:]])
        ws2.send({"type": "resume", "last_event_id": messages[-1]["id"]})
        contract.validate("WsResumed", ws2.receive(), "ws resumed")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        os.unlink(config_path)
    check("server exits 0 on SIGTERM", proc.returncode == 0, proc.returncode)
    print(f"contract: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
