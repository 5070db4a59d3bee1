"""The floors: a bare Sanic app (no middleware) serving the built landing page from memory, taking
a POST body and answering 202, and doing the same plus one Redis EVALSHA through leadcap's Redis
store, to see what Sanic and one Redis round trip cost per request on this machine. Used by
floors.sh; the Redis URL is the second argument."""

import sys
from pathlib import Path

import orjson
from sanic import Sanic
from sanic.response import json, raw

from leadcap.stores.redis import Redis

BODY = (Path(__file__).resolve().parents[2] / "web" / "ui" / "dist" / "index.html").read_bytes()
SCRIPT = "return redis.call('INCR', KEYS[1])"
app = Sanic("floor")
app.config.ACCESS_LOG = False
app.config.MOTD = False


@app.before_server_start
async def connect(app):  # type: ignore[no-untyped-def]
    app.ctx.redis = Redis.open(sys.argv[2])
    app.ctx.sha = await app.ctx.redis.client_for_tests().script_load(SCRIPT)


@app.get("/")
async def index(request):  # type: ignore[no-untyped-def]
    headers = {"ETag": '"floor"', "Cache-Control": "no-cache"}
    return raw(BODY, content_type="text/html; charset=utf-8", headers=headers)


@app.post("/post")
async def post(request):  # type: ignore[no-untyped-def]
    return json({"phone": orjson.loads(request.body)["phone"]}, status=202)


@app.post("/post-redis")
async def post_redis(request):  # type: ignore[no-untyped-def]
    phone = orjson.loads(request.body)["phone"]
    await request.app.ctx.redis.client_for_tests().evalsha(request.app.ctx.sha, 1, "leadcap-floor:count")
    return json({"phone": phone}, status=202)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), single_process=True, access_log=False, motd=False)
