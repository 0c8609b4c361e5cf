#!/usr/bin/python3
"""Reference xapi plugin for the dispatch benchmark (bench/run).

It does what a plugin written against the standard XenAPIPlugin helper does
on every call, written here from the xapi plugin protocol, not copied:

- import what XenAPIPlugin and its XenAPI module import (sys, os, socket,
  gettext, http.client, xmlrpc.client) and, as most real plugins do, syslog;
- load the XenAPI message catalog through gettext (fallback when absent);
- parse argv[1], one XML-RPC methodCall, with xmlrpc.client.loads: params are
  the caller's session reference and a struct of string arguments;
- make a local xapi session object (an XML-RPC proxy over the unix socket
  /var/lib/xcp/xapi; nothing is sent, as for ping);
- call the function from a table and print exactly one methodResponse:
  {Status: Success, Value: string} or {Status: Failure, ErrorDescription: [...]}.

Its `ping` answers the same JSON text as the xensm plugin's ping.
"""

import gettext
import http.client
import json
import os
import socket
import sys
import syslog
import xmlrpc.client

XAPI_SOCKET = os.environ.get("XENSM_XAPI_SOCKET", "/var/lib/xcp/xapi")

_ = gettext.translation("xen-xm", fallback=True).gettext


class PluginFailure(Exception):
    """A failure with a xapi error code and its parameters."""

    def __init__(self, code, params):
        super().__init__(code)
        self.description = [code] + list(params)


class _UnixConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a unix socket (xapi's local socket)."""

    def __init__(self, path):
        super().__init__("localhost")
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self._path)
        self.sock = sock


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self._path = path

    def make_connection(self, host):
        return _UnixConnection(self._path)


class LocalSession(xmlrpc.client.ServerProxy):
    """The caller's session on the local xapi."""

    def __init__(self, session_ref):
        super().__init__("http://localhost/", transport=_UnixTransport(XAPI_SOCKET),
                         allow_none=True)
        self.session_ref = session_ref


def _response(struct):
    return xmlrpc.client.dumps((struct,), methodresponse=True)


def ping(session, args):
    return json.dumps({"reply": "pong"}, separators=(",", ":"))


FUNCTIONS = {"ping": ping}


def main():
    if len(sys.argv) != 2:
        syslog.syslog(syslog.LOG_ERR, "expected one argument, an XML-RPC methodCall")
        print(_response({"Status": "Failure",
                         "ErrorDescription": ["XENAPI_PLUGIN_FAILURE", "argv",
                                              "expected one argument"]}))
        return 0
    params, method = xmlrpc.client.loads(sys.argv[1])
    function = FUNCTIONS.get(method)
    if function is None:
        print(_response({"Status": "Failure",
                         "ErrorDescription": ["UNKNOWN_XENAPI_PLUGIN_FUNCTION", method]}))
        return 0
    session = LocalSession(params[0])
    args = params[1] if len(params) > 1 else {}
    try:
        value = function(session, args)
        print(_response({"Status": "Success", "Value": value}))
    except PluginFailure as failure:
        print(_response({"Status": "Failure", "ErrorDescription": failure.description}))
    except Exception as exn:  # any other error is reported, never a traceback on stdout
        print(_response({"Status": "Failure",
                         "ErrorDescription": ["XENAPI_PLUGIN_FAILURE", method,
                                              exn.__class__.__name__, str(exn)]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
