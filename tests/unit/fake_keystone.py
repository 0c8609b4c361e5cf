#!/usr/bin/env python3
"""A Keystone stand-in for test_keystone (Python's http.server does HTTP):
POST /v3/auth/tokens logs in the service user xensm/svcpass (201, token in
X-Subject-Token); GET /v3/auth/tokens validates X-Subject-Token when
X-Auth-Token is the current service token (else 401): "good-<project>-<role>"
is valid (200), "boom" is a 500, anything else 404. POST /control/expire
makes the service token stale. Prints its port, then serves until killed."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"service": None, "n": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/control/expire":
            STATE["service"] = None
            return self.reply(200, {})
        if not self.path.startswith("/v3/auth/tokens"):
            return self.reply(404, {})
        auth = json.loads(body)["auth"]
        user = auth["identity"]["password"]["user"]
        if user["name"] != "xensm" or user["password"] != "svcpass" \
                or auth["scope"]["project"]["name"] != "service":
            return self.reply(401, {"error": {"code": 401}})
        STATE["n"] += 1
        STATE["service"] = "svc-%d" % STATE["n"]
        self.reply(201, {"token": {"expires_at": "2099-01-01T00:00:00.000000Z"}},
                   [("X-Subject-Token", STATE["service"])])

    def do_GET(self):
        if not self.path.startswith("/v3/auth/tokens"):
            return self.reply(404, {})
        if self.headers.get("X-Auth-Token") != STATE["service"] or not STATE["service"]:
            return self.reply(401, {"error": {"code": 401}})
        subject = self.headers.get("X-Subject-Token", "")
        if subject == "boom":
            return self.reply(500, {"error": {"code": 500}})
        parts = subject.split("-")
        if len(parts) != 3 or parts[0] != "good":
            return self.reply(404, {"error": {"code": 404}})
        self.reply(200, {"token": {
            "expires_at": "2099-01-01T00:00:00.000000Z",
            "user": {"id": "u-" + parts[1], "name": "user " + parts[1]},
            "project": {"id": parts[1], "name": "project " + parts[1]},
            "roles": [{"id": "r1", "name": "reader"}, {"id": "r2", "name": parts[2]}]}})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_port, flush=True)
server.serve_forever()
