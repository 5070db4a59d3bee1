"""The floor: a bare Sanic app serving the built landing page from memory (no middleware, no
Redis), to see what Sanic alone costs per request on this machine. Used by floors.sh."""

import sys
from pathlib import Path

from sanic import Sanic
from sanic.response import raw

BODY = (Path(__file__).resolve().parents[2] / "web" / "ui" / "dist" / "index.html").read_bytes()
app = Sanic("floor")
app.config.ACCESS_LOG = False
app.config.MOTD = False


@app.get("/")
async def index(request):  # type: ignore[no-untyped-def]
    headers = {"ETag": '"floor"', "Cache-Control": "no-cache"}
    return raw(BODY, content_type="text/html; charset=utf-8", headers=headers)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), single_process=True, access_log=False, motd=False)
