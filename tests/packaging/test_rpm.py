"""The RPMs, built the way a release is built.

Runs scripts/rpm (a `git archive` tarball and `rpmbuild -bb` of
packaging/rpm/xensm.spec, with Debian's rpm here) in a temp _topdir, then:
  - `rpm -qp --dump` / --qf: every path, type, mode, owner and %config
    flag of xensm-hostagent and xensm-catalog, and nothing else;
  - `cmake --install` of the same build tree into a DESTDIR: the same layout;
  - the packaged plugin answers `ping` invoked as xapi invokes it (argv[1] is
    the XML-RPC methodCall; one methodResponse on stdout, exit status 0);
  - the host package's programs (XENSM_STATIC_HOST=ON in the spec) are static
    executables (readelf: no INTERP, no NEEDED) and `rpm -qp --requires`
    names no library; the catalog package stays dynamic.
When rpmbuild fails, the failure names every path the packages lack.
"""
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest
import xmlrpc.client

SOURCE = os.environ.get("XENSM_SOURCE_DIR", os.getcwd())


def rpm_eval(macro):
    return subprocess.run(["rpm", "--eval", macro], capture_output=True, text=True,
                          check=True).stdout.strip()


LIBEXECDIR = rpm_eval("%{_libexecdir}")
UNITDIR = "/usr/lib/systemd/system"

# path -> (type, mode, flags): issue 6's layout. flags: "cn" = %config(noreplace).
LAYOUT = {
    "xensm-hostagent": {
        "/usr/sbin/xensm-agentd": ("f", 0o755, ""),
        "/etc/xapi.d/plugins/xensm": ("f", 0o755, ""),
        f"{LIBEXECDIR}/xensm": ("d", 0o755, ""),
        f"{LIBEXECDIR}/xensm/xensm-xapi": ("f", 0o755, ""),
        "/etc/xensm": ("d", 0o755, ""),
        "/etc/xensm/agent.cfg": ("f", 0o600, "cn"),
        "/etc/xensm/plugin.cfg": ("f", 0o644, "cn"),
        "/etc/xensm/keys": ("d", 0o700, ""),
        f"{UNITDIR}/xensm-agentd.service": ("f", 0o644, ""),
        # xensm's licence and libcurl's, which the static programs carry.
        "/usr/share/licenses/xensm-hostagent": ("d", 0o755, ""),
        "/usr/share/licenses/xensm-hostagent/LICENSE": ("f", 0o644, "l"),
        "/usr/share/licenses/xensm-hostagent/COPYING.curl": ("f", 0o644, "l"),
    },
    "xensm-catalog": {
        "/usr/sbin/xensm-catalogd": ("f", 0o755, ""),
        "/usr/bin/xensm-manage": ("f", 0o755, ""),
        "/etc/xensm": ("d", 0o755, ""),
        "/etc/xensm/catalog.cfg": ("f", 0o644, "cn"),
        "/var/lib/xensm": ("d", 0o700, ""),
        f"{UNITDIR}/xensm-catalogd.service": ("f", 0o644, ""),
    },
}
# What the spec adds itself (%license), not cmake --install.
RPM_ONLY = re.compile(r"^/usr/share/licenses(/|$)")
# rpm adds build-id links of the ELF files it packages.
BUILD_ID = re.compile(r"^/usr/lib/\.build-id(/|$)")


def run(cmd, timeout=300, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


class RpmTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="xensm-rpm-")
        cls.top = os.path.join(cls.tmp, "top")
        cls.out = os.path.join(cls.tmp, "rpms")
        env = dict(os.environ, XENSM_RPM_TOPDIR=cls.top)
        cls.build = run(["bash", os.path.join(SOURCE, "scripts", "rpm"), cls.out],
                        timeout=1500, env=env)
        cls.rpms = {}
        if os.path.isdir(cls.out):
            for name in os.listdir(cls.out):
                m = re.match(r"^(xensm-[a-z]+)-\d", name)
                if m:
                    cls.rpms[m.group(1)] = os.path.join(cls.out, name)
        # The build tree rpmbuild's %build made (BUILD/xensm-<version>/build-rpm).
        cls.build_tree = None
        for dirpath, dirnames, filenames in os.walk(os.path.join(cls.top, "BUILD")):
            if os.path.basename(dirpath) == "build-rpm" and "CMakeCache.txt" in filenames:
                cls.build_tree = dirpath
                break
        cls.destdir = None
        if cls.build_tree:
            cls.destdir = os.path.join(cls.tmp, "destdir")
            cls.install = run(["cmake", "--install", cls.build_tree],
                              env=dict(os.environ, DESTDIR=cls.destdir))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def missing_report(self):
        """Every expected path absent from rpmbuild's buildroot, for messages."""
        lacking = [line.strip() for line in self.build.stderr.splitlines()
                   if re.search(r"(File|Directory) not found", line)]
        if self.destdir:
            for pkg, paths in LAYOUT.items():
                for path in paths:
                    if not RPM_ONLY.match(path) and not os.path.lexists(self.destdir + path):
                        lacking.append(f"{pkg}: {path} is not installed by `cmake --install`")
        return "\n".join(sorted(set(lacking)))

    def require_rpm(self, pkg):
        if pkg not in self.rpms:
            self.fail(f"no {pkg} RPM; rpmbuild said:\n{self.build.stderr[-3000:]}\n"
                      f"missing:\n{self.missing_report()}")
        return self.rpms[pkg]

    def test_rpmbuild_succeeds(self):
        self.assertEqual(self.build.returncode, 0,
                         f"scripts/rpm failed:\n{self.build.stderr[-3000:]}\n"
                         f"missing:\n{self.missing_report()}")
        self.assertEqual(sorted(self.rpms), sorted(LAYOUT))

    def dump(self, rpm):
        """path -> (type, mode, owner, group, flags) from the package header."""
        r = run(["rpm", "-qp", "--qf",
                 "[%{FILENAMES}\\t%{FILEMODES:octal}\\t%{FILEUSERNAME}\\t"
                 "%{FILEGROUPNAME}\\t%{FILEFLAGS:fflags}\\n]", rpm])
        self.assertEqual(r.returncode, 0, r.stderr)
        files = {}
        for line in r.stdout.splitlines():
            path, mode, user, group, flags = line.split("\t")
            mode = int(mode, 8)
            kind = "d" if stat.S_ISDIR(mode) else "l" if stat.S_ISLNK(mode) else "f"
            files[path] = (kind, stat.S_IMODE(mode), user, group, flags)
        # --dump must agree (it is what an admin would look at).
        dump = run(["rpm", "-qp", "--dump", rpm])
        self.assertEqual(dump.returncode, 0, dump.stderr)
        for line in dump.stdout.splitlines():
            path, _size, _mtime, _digest, mode = line.split()[:5]
            self.assertEqual(stat.S_IMODE(int(mode, 8)), files[path][1], path)
        return files

    def check_package(self, pkg):
        files = self.dump(self.require_rpm(pkg))
        for path, (kind, mode, flags) in LAYOUT[pkg].items():
            with self.subTest(package=pkg, path=path):
                self.assertIn(path, files, f"{pkg} lacks {path}")
                self.assertEqual(files[path][0], kind)
                self.assertEqual(files[path][1], mode, f"{path}: {oct(files[path][1])}")
                self.assertEqual(files[path][2:4], ("root", "root"))
                self.assertEqual(files[path][4], flags)
        extra = [p for p in files if p not in LAYOUT[pkg] and not BUILD_ID.match(p)]
        self.assertEqual(extra, [], f"{pkg} holds files nobody asked for")

    def test_hostagent_package(self):
        self.check_package("xensm-hostagent")

    def test_catalog_package(self):
        self.check_package("xensm-catalog")

    def test_cmake_install_gives_same_layout(self):
        self.assertIsNotNone(self.build_tree, "rpmbuild left no build-rpm tree")
        self.assertEqual(self.install.returncode, 0, self.install.stderr)
        installed = set()
        for dirpath, dirnames, filenames in os.walk(self.destdir):
            for name in dirnames + filenames:
                installed.add("/" + os.path.relpath(os.path.join(dirpath, name), self.destdir))
        expected = {}
        for paths in LAYOUT.values():
            expected.update({p: v for p, v in paths.items() if not RPM_ONLY.match(p)})
        for path, (kind, mode, _flags) in expected.items():
            with self.subTest(path=path):
                self.assertIn(path, installed, f"cmake --install lacks {path}")
                st = os.lstat(self.destdir + path)
                self.assertEqual("d" if stat.S_ISDIR(st.st_mode) else "f", kind)
                self.assertEqual(stat.S_IMODE(st.st_mode), mode, f"{path}: {oct(st.st_mode)}")
        # Nothing installed that no package holds (parents of packaged paths aside).
        stray = [p for p in installed
                 if p not in expected and not any(e.startswith(p + "/") for e in expected)]
        self.assertEqual(sorted(stray), [], "installed but in no package")

    def test_rpm_install_verify_erase(self):
        """rpm -i of both packages side by side into an empty root, rpm -V,
        then rpm -e keeping an edited config as .rpmsave."""
        if os.geteuid() != 0:
            self.skipTest("rpm --root needs root (chroot)")
        root = os.path.join(self.tmp, "root")
        os.makedirs(root)
        rpm = ["rpm", "--root", root]
        self.assertEqual(run(rpm + ["--initdb"]).returncode, 0)
        # --nodeps: the root holds no libc package; --noscripts: no systemctl.
        inst = run(rpm + ["-i", "--nodeps", "--noscripts",
                          self.require_rpm("xensm-hostagent"), self.require_rpm("xensm-catalog")])
        self.assertEqual(inst.returncode, 0, inst.stderr)
        for paths in LAYOUT.values():
            for path, (kind, mode, _flags) in paths.items():
                st = os.lstat(root + path)
                self.assertEqual(stat.S_IMODE(st.st_mode), mode, path)
        verify = run(rpm + ["-V", "--nodeps", "xensm-hostagent", "xensm-catalog"])
        self.assertEqual((verify.returncode, verify.stdout), (0, ""), verify.stderr)
        with open(root + "/etc/xensm/agent.cfg", "a") as f:
            f.write("zone = edited\n")
        verify = run(rpm + ["-V", "--nodeps", "xensm-hostagent"])
        self.assertRegex(verify.stdout, r"(?m)^S\.5\S*\s+c\s+/etc/xensm/agent\.cfg$")
        erase = run(rpm + ["-e", "--nodeps", "--noscripts", "xensm-hostagent", "xensm-catalog"])
        self.assertEqual(erase.returncode, 0, erase.stderr)
        self.assertTrue(os.path.exists(root + "/etc/xensm/agent.cfg.rpmsave"))
        self.assertFalse(os.path.exists(root + "/etc/xensm/catalog.cfg"))
        self.assertFalse(os.path.exists(root + "/usr/sbin/xensm-agentd"))

    def extract(self, pkg):
        dest = os.path.join(self.tmp, "x-" + pkg)
        if not os.path.isdir(dest):
            os.makedirs(dest)
            payload = run(["sh", "-c", 'rpm2cpio "$1" | cpio -idm --quiet', "sh",
                           self.require_rpm(pkg)], cwd=dest)
            self.assertEqual(payload.returncode, 0, payload.stderr)
        return dest

    def call_plugin(self, plugin, fn, args):
        # xapi's own form: untyped compact values, session ref then a struct.
        members = "".join(f"<member><name>{k}</name><value>{v}</value></member>"
                          for k, v in args.items())
        request = ("<?xml version=\"1.0\"?><methodCall><methodName>" + fn + "</methodName>"
                   "<params><param><value>OpaqueRef:6a2c5cd5-3b13-4c8a-9c1b-0123456789ab"
                   "</value></param><param><value><struct>" + members +
                   "</struct></value></param></params></methodCall>")
        r = run([plugin, request], timeout=30)
        self.assertEqual(r.returncode, 0, f"plugin exit {r.returncode}: {r.stderr}")
        try:
            (response,), _ = xmlrpc.client.loads(r.stdout)
        except Exception as e:
            self.fail(f"{fn}: stdout is not one methodResponse ({e}):\n"
                      f"stdout: {r.stdout!r}\nstderr: {r.stderr!r}")
        return response

    def test_packaged_plugin_answers_ping(self):
        plugin = os.path.join(self.extract("xensm-hostagent"), "etc/xapi.d/plugins/xensm")
        self.assertTrue(os.access(plugin, os.X_OK))
        pong = self.call_plugin(plugin, "ping", {})
        self.assertEqual(pong.get("Status"), "Success", pong)
        self.assertIsInstance(pong.get("Value"), str)
        unknown = self.call_plugin(plugin, "no_such_function", {})
        self.assertEqual(unknown.get("Status"), "Failure", unknown)
        self.assertEqual(unknown["ErrorDescription"][0], "UNKNOWN_XENAPI_PLUGIN_FUNCTION")

    def test_packaged_host_programs_are_static(self):
        """Issue 14: every program of the host package is a static executable
        (XENSM_STATIC_HOST=ON in the spec): no program interpreter, no NEEDED,
        and the package requires no library."""
        root = self.extract("xensm-hostagent")
        for rel in ("usr/sbin/xensm-agentd", "etc/xapi.d/plugins/xensm",
                    LIBEXECDIR.lstrip("/") + "/xensm/xensm-xapi"):
            with self.subTest(program="/" + rel):
                program = os.path.join(root, rel)
                self.assertTrue(os.access(program, os.X_OK), f"/{rel} is not in the package")
                elf = run(["readelf", "-l", "-d", "-W", program])
                self.assertEqual(elf.returncode, 0, elf.stderr)
                self.assertNotIn("INTERP", elf.stdout, f"/{rel} has a program interpreter")
                self.assertEqual(re.findall(r"\(NEEDED\).*", elf.stdout), [], f"/{rel}")
        requires = run(["rpm", "-qp", "--requires", self.require_rpm("xensm-hostagent")])
        self.assertEqual(requires.returncode, 0, requires.stderr)
        print("\nxensm-hostagent requires: " + ", ".join(requires.stdout.split("\n")))
        # What may remain: rpmlib() features, /bin/sh for the scriptlets,
        # systemd (the unit). No shared library, no library package.
        libraries = [r for r in requires.stdout.splitlines()
                     if ".so" in r or r.startswith("lib") or "(GLIBC" in r]
        self.assertEqual(libraries, [])

    def test_catalog_package_is_dynamic(self):
        """The catalog RPM is unchanged: dynamic programs, library requirements."""
        root = self.extract("xensm-catalog")
        elf = run(["readelf", "-l", "-W", os.path.join(root, "usr/sbin/xensm-catalogd")])
        self.assertIn("INTERP", elf.stdout)

if __name__ == "__main__":
    unittest.main(verbosity=2)
