#!/usr/bin/env python3
"""Our XML-RPC codec against Python's xmlrpc.client (an independent implementation).

Python encodes (dumps), xs_xmlrpc_tool decodes and re-encodes with our codec,
Python decodes (loads) and must get the original values back. The tool's path
comes from the environment variable XS_XMLRPC_TOOL.
"""
import datetime
import os
import subprocess
import unittest
import xmlrpc.client as x

TOOL = os.environ.get("XS_XMLRPC_TOOL", "")

NASTY = "<&>\"' ]]> &amp; &lt; \t\n tail"


def run_tool(mode, doc):
    if isinstance(doc, str):
        doc = doc.encode("utf-8")
    proc = subprocess.run([TOOL, mode], input=doc, capture_output=True, timeout=60)
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def through_us(mode, doc):
    rc, out, err = run_tool(mode, doc)
    if rc != 0:
        raise AssertionError("tool exited %d: %s" % (rc, err))
    return out


class PythonInterop(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.access(TOOL, os.X_OK), "set XS_XMLRPC_TOOL to xs_xmlrpc_tool")

    def round_trip_response(self, value):
        doc = x.dumps((value,), methodresponse=True, allow_none=True)
        out = through_us("response", doc)
        (back,), method = x.loads(out, use_builtin_types=True)
        self.assertIsNone(method)
        return back, out

    def test_every_type(self):
        value = {
            "string": "gold",
            "empty": "",
            "spaces": "  two  ",
            "int": 2147483647,
            "negative": -2147483648,
            "true": True,
            "false": False,
            "double": 0.1,
            "third": 1.0 / 3.0,
            "huge": -1.5e300,
            "datetime": datetime.datetime(2012, 1, 1, 10, 20, 30),
            "bytes": b"\x00\x01\xffbinary" * 50,
            "nobytes": b"",
            "nil": None,
            "array": ["a", 1, [True, {}], [], None],
            "struct": {"inner": {"deep": ["x", {"k": "v"}]}},
            "unicode": "caf\u00e9 \u2603 \U0001F600 \ufffd",
        }
        back, _ = self.round_trip_response(value)
        self.assertEqual(back, value)

    def test_member_names_and_values_are_escaped(self):
        value = {NASTY: NASTY, "</name><value>x</value>": "</string></value>",
                 "k": [NASTY, {NASTY: NASTY}]}
        back, out = self.round_trip_response(value)
        self.assertEqual(back, value)
        self.assertNotIn("<&>", out)
        self.assertIn("<name>&lt;&amp;&gt;&quot;' ]]&gt; &amp;amp; &amp;lt;", out)

    def test_carriage_return_survives(self):
        # Python writes CR raw (a parser turns it into LF); we write &#13;.
        doc = ("<methodResponse><params><param><value><struct><member><name>a&#13;b</name>"
               "<value>c&#13;&#10;d</value></member></struct></value></param></params>"
               "</methodResponse>")
        out = through_us("response", doc)
        self.assertIn("&#13;", out)
        (back,), _ = x.loads(out)
        self.assertEqual(back, {"a\rb": "c\r\nd"})

    def test_int64_written_as_int(self):
        doc = ("<methodResponse><params><param><value><array><data>"
               "<value><i8>9223372036854775807</i8></value><value><i4>-9223372036854775808</i4></value>"
               "</data></array></value></param></params></methodResponse>")
        out = through_us("response", doc)
        self.assertIn("<int>9223372036854775807</int>", out)
        (back,), _ = x.loads(out)
        self.assertEqual(back, [2 ** 63 - 1, -2 ** 63])

    def test_xapi_compact_form(self):
        doc = ("<methodResponse><params><param><value><struct>"
               "<member><name>Status</name><value>Success</value></member>"
               "<member><name>Value</name><value><array><data><value>OpaqueRef:a</value>"
               "<value/></data></array></value></member></struct></value></param></params>"
               "</methodResponse>")
        (back,), _ = x.loads(through_us("response", doc))
        self.assertEqual(back, {"Status": "Success", "Value": ["OpaqueRef:a", ""]})

    def test_call(self):
        params = ("OpaqueRef:abc", {"volume_uuid": "u", "name": NASTY, "size": "10737418240"}, 7, None)
        doc = x.dumps(params, "vdi_create", allow_none=True)
        back, method = x.loads(through_us("call", doc))
        self.assertEqual(method, "vdi_create")
        self.assertEqual(back, params)
        back, method = x.loads(through_us("call", x.dumps((), "ping")))
        self.assertEqual((back, method), ((), "ping"))

    def test_fault(self):
        rc, out, err = run_tool("response", x.dumps(x.Fault(42, "no <such> thing"), methodresponse=True))
        self.assertEqual(rc, 3)
        self.assertEqual(out, "")
        self.assertIn("XML-RPC fault 42: no <such> thing", err)

    def test_refused_input(self):
        call = x.dumps(("a", "b"), "m")
        two_params = call[call.index("<params>"):call.index("</params>") + len("</params>")]
        cases = {
            "billion laughs": ('<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                               "<methodResponse><params><param><value>&b;</value></param></params>"
                               "</methodResponse>", "DOCTYPE"),
            "external entity": ('<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                                "<methodResponse><params><param><value>&e;</value></param></params>"
                                "</methodResponse>", "DOCTYPE"),
            # Python's dumps writes control characters raw: not XML, so refused.
            "control character": (x.dumps(("a\x01b",), methodresponse=True), "malformed XML"),
            "truncated": (x.dumps(({"a": "b"},), methodresponse=True)[:-30], "malformed XML"),
            "two params": ("<methodResponse>%s</methodResponse>" % two_params, "more than one <param>"),
        }
        for name, (doc, expect) in cases.items():
            with self.subTest(name):
                rc, out, err = run_tool("response", doc)
                self.assertEqual(rc, 1)
                self.assertEqual(out, "")
                self.assertIn(expect, err)
                self.assertNotIn("root:", err)


if __name__ == "__main__":
    unittest.main()
