"""Static executables (cmake/XensmStatic.cmake).

Runs zmq_static_probe, built in every build that can link statically with
xensm_static_program(): it must do a CURVE round trip and refuse a wrong key
with ZeroMQ, czmq, libsodium, libstdc++ and the GSS-API / systemd stubs linked
in, and readelf must show a static executable (no INTERP, no NEEDED). When the
build was configured with XENSM_STATIC_HOST=ON, every host-package program
(xensm-agentd, xensm-xapi, the xensm plugin) gets the same readelf check.
"""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import xsm  # noqa: E402

HOST_PROGRAMS = ("xensm-agentd", "xensm-xapi", "xensm")


def dynamic_parts(path):
    """(INTERP program headers, NEEDED entries) of an ELF file, from readelf -ld."""
    out = subprocess.run(["readelf", "-l", "-d", "-W", path], capture_output=True, text=True,
                         check=True).stdout
    interp = re.findall(r"^\s*INTERP\s", out, re.M)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    return interp, needed


class StaticTest(unittest.TestCase):
    def assert_static(self, path):
        interp, needed = dynamic_parts(path)
        print(f"\n{os.path.basename(path)}: INTERP {len(interp)}, NEEDED {needed}")
        self.assertEqual(interp, [], f"{path} has a program interpreter")
        self.assertEqual(needed, [], f"{path} needs shared libraries")

    def test_probe_does_curve_round_trip(self):
        probe = xsm.program("zmq_static_probe")
        r = subprocess.run([probe], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, f"probe failed:\n{r.stdout}\n{r.stderr}")
        self.assertIn("CURVE round trip ok, wrong key refused", r.stdout)

    def test_probe_is_static(self):
        self.assert_static(xsm.program("zmq_static_probe"))

    def test_static_host_programs(self):
        if os.environ.get("XENSM_STATIC_HOST") not in ("ON", "TRUE", "1", "YES"):
            self.skipTest("build not configured with XENSM_STATIC_HOST=ON")
        for target in HOST_PROGRAMS:
            with self.subTest(program=target):
                self.assert_static(xsm.program(target))


if __name__ == "__main__":
    unittest.main(verbosity=2)
