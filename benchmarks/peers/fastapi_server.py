"""FastAPI + uvicorn (uvloop, httptools) peer: the contract's bench blocks, idiomatic
StreamingResponse. usage: python3 fastapi_server.py PORT"""
import asyncio
import json
import sys
import uuid

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

WORDS = [" the", " stream", " token", " flows", " fast", " and", " clear", " over"]
BLOCKS = {"bench-burst": (256, 0.0), "bench-paced": (64, 0.020)}
app = FastAPI()


def event(sid, seq, name, payload):
    return f"id: {sid}.{seq}\nevent: {name}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n"


async def events(block):
    count, delay = BLOCKS[block]
    sid = uuid.uuid4().hex[:16]
    yield "retry: 2000\n\n"
    for i in range(count):
        yield event(sid, i + 1, "chunk", {"index": i, "text": WORDS[i % len(WORDS)]})
        if delay:
            await asyncio.sleep(delay)
    yield event(sid, count + 1, "complete",
                {"finish_reason": "stop", "usage": {"input_tokens": 1, "output_tokens": count}, "chunks": count})


@app.get("/api/stream/ai-block/{block}")
async def stream(block: str, prompt: str = ""):
    if block not in BLOCKS:
        return JSONResponse({"error": {"code": "unknown_block", "message": block}}, status_code=404)
    return StreamingResponse(events(block), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@app.post("/api/ai-block/{block}")
async def collect(block: str, request: Request):
    await request.json()
    count, _ = BLOCKS.get(block, (256, 0))
    text = "".join(WORDS[i % len(WORDS)] for i in range(count))
    return {"block_type": block, "text": text, "finish_reason": "stop",
            "usage": {"input_tokens": 1, "output_tokens": count}}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
                log_level="warning", access_log=False, backlog=4096)
