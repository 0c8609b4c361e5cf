#!/usr/bin/env python3
"""A xapi host plugin for the simulator's tests: it reports what a plugin
finds on "its" host, the way xapi runs it (argv[1] = the methodCall, the
reply a methodResponse on stdout).

Functions:
  env    -> JSON: argv count, the environment, uid, the contents of
            /etc/xensource-inventory, /etc/xensource/pool.conf and every path
            in args["files"] (comma-separated; null when missing), whether
            /var/lib/xcp/xapi is a socket, and what xapi answers through it
            with the plugin's session: session.get_this_host, that host's
            uuid and the pool's master.
  write  -> writes args["text"] to args["path"] (to show /etc is writable
            and that nothing reaches the real file system); returns "".
  block  -> writes its pid to args["pid_file"], then reads the FIFO
            args["fifo"] until the test writes a line; returns the line.
"""

import http.client
import json
import os
import socket
import stat
import sys
import xmlrpc.client

XAPI = "/var/lib/xcp/xapi"


def reply(value):
    sys.stdout.write(xmlrpc.client.dumps(({"Status": "Success", "Value": value},),
                                         methodresponse=True))
    sys.exit(0)


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


class Local(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(XAPI)


def xapi(method, *params):
    conn = Local("localhost", timeout=30)
    try:
        conn.request("POST", "/", xmlrpc.client.dumps(params, method),
                     {"Content-Type": "text/xml"})
        (resp,), _ = xmlrpc.client.loads(conn.getresponse().read())
    finally:
        conn.close()
    return resp


def main():
    (session, args), fn = xmlrpc.client.loads(sys.argv[1])
    if fn == "env":
        # the environment as exec'd (os.environ has Python's own additions,
        # e.g. LC_CTYPE from its C-locale coercion)
        with open("/proc/self/environ", "rb") as f:
            env = dict(kv.decode().split("=", 1) for kv in f.read().split(b"\0") if kv)
        out = {"argc": len(sys.argv), "env": env, "uid": os.getuid(),
               "inventory": read("/etc/xensource-inventory"),
               "pool_conf": read("/etc/xensource/pool.conf"),
               "files": {p: read(p) for p in args.get("files", "").split(",") if p}}
        try:
            out["socket"] = stat.S_ISSOCK(os.stat(XAPI).st_mode)
        except OSError as e:
            out["socket"] = str(e)
        if out["socket"] is True:
            this = xapi("session.get_this_host", session, session)
            out["this_host"] = this
            if this.get("Status") == "Success":
                out["this_host_uuid"] = xapi("host.get_uuid", session, this["Value"])
            pools = xapi("pool.get_all", session)
            if pools.get("Status") == "Success":
                out["master"] = xapi("pool.get_master", session, pools["Value"][0])
        reply(json.dumps(out))
    if fn == "write":
        with open(args["path"], "w", encoding="utf-8") as f:
            f.write(args["text"])
        reply("")
    if fn == "block":
        with open(args["pid_file"], "w", encoding="utf-8") as f:
            f.write(str(os.getpid()))
        with open(args["fifo"], encoding="utf-8") as f:
            reply(f.readline().strip())
    sys.stdout.write(xmlrpc.client.dumps(({"Status": "Failure", "ErrorDescription":
                                           ["UNKNOWN_XENAPI_PLUGIN_FUNCTION", fn]},),
                                         methodresponse=True))


if __name__ == "__main__":
    main()
