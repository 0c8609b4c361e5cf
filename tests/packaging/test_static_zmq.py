"""The static ZeroMQ link (XENSM_STATIC_ZMQ / xensm_link_zmq STATIC).

Runs the probe built with xensm_link_zmq(... STATIC): it must do a CURVE round
trip and refuse a wrong key, and ldd must show that it loads no libzmq, libczmq
or libsodium from the system. When the build itself was configured with
XENSM_STATIC_ZMQ=ON, the host-side programs that exist get the same ldd check.
"""
import os
import re
import subprocess
import unittest

BUILD = os.environ.get("XENSM_BUILD_DIR", "build")
ZMQ_LIBS = re.compile(r"\blib(zmq|czmq|sodium)\.so")
# What a XenServer 8 / XCP-ng 8 dom0 base system provides, as sonames a program
# may name in DT_NEEDED: glibc, libgcc_s, libxml2, libcurl, and
# krb5-libs and systemd-libs, which libcurl and systemd bring to every dom0.
DOM0_BASE = re.compile(
    r"^(ld-linux[-\w]*|libc|libm|libpthread|librt|libdl|libresolv|libgcc_s"
    r"|libxml2|libz|libcurl|libgssapi_krb5|libkrb5|libk5crypto|libcom_err"
    r"|libkrb5support|libsystemd|libasan|libubsan)\.so\.\d+$")


def ldd(path):
    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
    return [os.path.basename(line.split()[0]) for line in out.splitlines() if line.strip()]


def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True,
                         check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def cache_value(name):
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(name + ":"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


class StaticZmqTest(unittest.TestCase):
    def setUp(self):
        self.probe = os.path.join(BUILD, "tests", "packaging", "zmq_static_probe")
        self.assertTrue(os.access(self.probe, os.X_OK), f"{self.probe} was not built")

    def test_probe_does_curve_round_trip(self):
        r = subprocess.run([self.probe], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, f"probe failed:\n{r.stdout}\n{r.stderr}")
        self.assertIn("CURVE round trip ok, wrong key refused", r.stdout)

    def test_probe_loads_no_zeromq_library(self):
        libs = ldd(self.probe)
        direct = needed(self.probe)
        print("\nzmq_static_probe NEEDED:", " ".join(direct))
        print("zmq_static_probe ldd:", " ".join(libs))
        self.assertEqual([l for l in libs if ZMQ_LIBS.search(l)], [],
                         "the statically linked probe still loads ZeroMQ libraries")
        self.assertEqual([l for l in direct if not DOM0_BASE.search(l)], [],
                         "the statically linked probe needs libraries a dom0 does not have")

    def test_static_host_programs(self):
        if cache_value("XENSM_STATIC_ZMQ") not in ("ON", "TRUE", "1", "YES"):
            self.skipTest("build not configured with XENSM_STATIC_ZMQ=ON")
        # Host programs: no ZeroMQ, and no libinih or libjansson either.
        host_only = re.compile(r"\blib(zmq|czmq|sodium|inih|jansson)\.so")
        checked = 0
        for rel in ("hostagent/xensm-agentd", "xe-plugin/xensm"):
            program = os.path.join(BUILD, rel)
            if not os.path.exists(program):
                continue
            checked += 1
            libs = ldd(program)
            self.assertEqual([l for l in libs if host_only.search(l)], [], f"{rel}: {libs}")
            self.assertEqual([l for l in needed(program) if not DOM0_BASE.search(l)], [],
                             f"{rel} needs libraries a dom0 does not have")
        if not checked:
            self.skipTest("no host program is built yet")

if __name__ == "__main__":
    unittest.main(verbosity=2)
