#!/usr/bin/env python3
"""Tests of scripts/long_functions on a made-up tree: a function one line
over the limit is named, one at the limit is not, tables and struct types
are not functions, braces in strings and comments do not count, and an
allow-list lets known functions pass while naming the stale entries."""
import os
import subprocess
import sys
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(TOP, "scripts", "long_functions")


def function(name, lines, static=True):
    """A function whose definition runs `lines` lines, name line to brace."""
    body = ["    x++;"] * (lines - 4)
    return "\n".join(["static int" if static else "int", name + " (int x)", "{"]
                     + body + ["    return x;", "}"]) + "\n"


class LongFunctions(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        os.makedirs(os.path.join(self.root, "common"))

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        with open(os.path.join(self.root, "common", name), "w") as f:
            f.write(text)

    def run_script(self, *extra):
        return subprocess.run([sys.executable, SCRIPT, "--root", self.root] + list(extra)
                              + ["common"], capture_output=True, text=True)

    def test_one_line_over_is_named(self):
        self.write("a.c", "#include <stdio.h>\n\n" + function("s_at_limit", 80)
                   + "\n" + function("s_over", 81, static=False))
        r = self.run_script()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "common/a.c:%d: s_over: 81 lines\n" % (2 + 81 + 1 + 2))
        self.assertIn("1 function(s) over 80 lines", r.stderr)

    def test_tables_structs_strings_and_comments(self):
        table = "static const char *s_table [] = {\n" + '    "x",\n' * 100 + "};\n"
        struct = "typedef struct {\n" + "    int a;\n" * 100 + "} s_t;\n"
        tricky = ("static int\ns_tricky (void)\n{\n"
                  "    const char *s = \"{{{ not a brace\";\n"
                  "    /* } neither { */\n    char c = '}';\n"
                  "#define S_NOT_CODE {\n"
                  + "    (void) s;\n" * 70 + "    return c;\n}\n")
        self.write("b.c", table + struct + tricky + function("s_after", 81))
        r = self.run_script()
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(r.stdout.splitlines(), ["common/b.c:%d: s_after: 81 lines"
                                                 % (102 + 102 + 79 + 2)])

    def test_allow_list(self):
        self.write("c.c", function("s_known", 90) + function("s_short", 10))
        allow = os.path.join(self.root, "allow")
        with open(allow, "w") as f:
            f.write("# known\ncommon/c.c s_known   # why\ncommon/c.c s_short\n")
        r = self.run_script("--allow", allow)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("common/c.c:2: s_known: 90 lines (allowed)", r.stdout)
        self.assertIn("common/c.c: s_short: listed as allowed but no longer over 80 lines",
                      r.stdout)
        with open(allow, "w") as f:
            f.write("common/c.c\n")
        r = self.run_script("--allow", allow)
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad line", r.stderr)


if __name__ == "__main__":
    unittest.main()
