"""The packaging install rules: default configs, systemd units, directories.

Configures the source tree with the RPM's layout (prefix /usr) in a temp dir,
builds the five packaged programs (Debug: the quickest) and installs the
`catalog` and `host` components into two DESTDIRs, then checks every path
and mode, the units (foreground, Restart=on-failure, journald, hardening that
leaves xapi's socket reachable; `systemd-analyze verify` clean) and the
default configs (INI, every setting present, commented, with its default).
"""
import configparser
import os
import re
import select
import shutil
import stat
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("XENSM_SOURCE_DIR", os.getcwd())

# path -> (type, mode): the layout DESIGN.md and issue 6 ask for.
# Each install component is one RPM: `catalog` and `host`.
COMPONENTS = {
    "catalog": {
        "usr/sbin/xensm-catalogd": ("f", 0o755),
        "usr/bin/xensm-manage": ("f", 0o755),
        "etc/xensm/catalog.cfg": ("f", 0o644),
        "var/lib/xensm": ("d", 0o700),
        "usr/lib/systemd/system/xensm-catalogd.service": ("f", 0o644),
    },
    "host": {
        "usr/sbin/xensm-agentd": ("f", 0o755),
        "etc/xapi.d/plugins/xensm": ("f", 0o755),
        "usr/libexec/xensm/xensm-xapi": ("f", 0o755),
        "etc/xensm/agent.cfg": ("f", 0o600),      # may hold xapi credentials
        "etc/xensm/plugin.cfg": ("f", 0o644),
        "etc/xensm/keys": ("d", 0o700),
        "usr/lib/systemd/system/xensm-agentd.service": ("f", 0o644),
    },
}
PROGRAMS = ["xensm-catalogd", "xensm-manage", "xensm-agentd", "xensm", "xensm-xapi"]
LAYOUT = {**COMPONENTS["catalog"], **COMPONENTS["host"]}
CATALOG_KEYS = {
    "db": "/var/lib/xensm/catalog.db",
    "db_password_file": "",
    "accept_lost_wal": "false",
    "admin_endpoint": "ipc:///run/xensm/admin.sock",
    "admin_allow_remote": "false",
    "default_zone": "default",
    "default_ratio": "1.0",
    "default_reserve": "0",
    "log_level": "notice",
    "admin_batch": "64",
    "agent_endpoint": "tcp://*:7601",
    "cert": "/var/lib/xensm/catalog.cert",
    "agent_keys": "/var/lib/xensm/agents",
    "heartbeat_ms": "1000",
    "agent_timeout_ms": "360000",
    "job_wait_ms": "30000",
    "instance": "",
    "leader_lease_ms": "5000",
    "leader_retry_ms": "1000",
    "orphan_sweep_ms": "600000",
    "orphan_grace_ms": "3600000",
    "api_listen": "127.0.0.1:8776",
    "api_public_endpoint": "",
    "api_cert": "",
    "api_key": "",
    "api_auth": "noauth",
    "api_allow_insecure": "false",
    "api_noauth_project": "admin",
    "api_quota_volumes": "1000",
    "api_quota_gigabytes": "100000",
    "keystone_url": "",
    "keystone_user": "",
    "keystone_password_file": "",
    "keystone_project": "service",
    "keystone_cafile": "",
}
AGENT_KEYS = {
    "catalog_endpoint": "tcp://catalog.example.com:7601",   # an example: no default
    "zone": "default",
    "host_uuid": "",
    "name": "",
    "inventory": "/etc/xensource-inventory",
    "xapi_url": "unix:/var/lib/xcp/xapi",
    "xapi_username": "root",
    "xapi_password": "",
    "xapi_ca_file": "",
    "xapi_timeout_ms": "300000",
    "cert": "/etc/xensm/keys/agent.cert",
    "catalog_key": "/etc/xensm/keys/catalog.cert",
    "workers": "4",
    "silence_ms": "10000",
    "log_level": "notice",
}
PLUGIN_KEYS = {
    "helper": "/usr/libexec/xensm/xensm-xapi",
    "log_level": "notice",
    "xapi_url": "unix:/var/lib/xcp/xapi",
    "inventory": "/etc/xensource-inventory",
}
# Where each program's settings table lives (xs_config_option_t), and the
# shipped settings its table may still lack (none now).
CODE_TABLES = {
    "catalog": ("catalog/xs_catalog_cfg.c", set()),
    "agent": ("hostagent/xs_agent_cfg.c", set()),
    "plugin": ("xe-plugin/xs_plugin_cfg.c", set()),
}
HARDENING = {
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "RestrictSUIDSGID": "yes",
}


# C literals and identifiers separated by blanks: "a" MACRO "b" (written so
# that a failed match cannot backtrack for long).
TOKENS = r'(?:"[^"\n]*"|\w+)(?:[ \t]+(?:"[^"\n]*"|\w+))*'


def code_settings(rel):
    """{key: default or None} from the xs_config_option_t table in a source
    file; a default that is not a literal (or literal-valued macros) is "?"."""
    path = os.path.join(SOURCE, rel)
    if not os.path.exists(path):
        return None
    defines = {"XENSM_SYSCONF_DIR": ['"/etc/xensm"']}
    folder = os.path.dirname(path)
    for name in os.listdir(folder):
        if name.endswith((".c", ".h")):
            with open(os.path.join(folder, name)) as f:
                for m in re.finditer(r"^#[ \t]*define[ \t]+(\w+)[ \t]+(.+)$", f.read(), re.M):
                    value = m.group(2).strip()
                    if re.fullmatch(TOKENS, value):
                        defines.setdefault(m.group(1), re.findall(r'"[^"]*"|\w+', value))

    def resolve(tokens, depth=0):
        out = ""
        for tok in tokens:
            if tok.startswith('"'):
                out += tok[1:-1]
            elif tok in defines and depth < 5:
                value = resolve(defines[tok], depth + 1)
                if value == "?":
                    return "?"
                out += value
            else:
                return "?"
        return out

    with open(path) as f:
        text = f.read()
    table = {}
    for m in re.finditer(r'\{\s*\w*SECTION\s*,\s*"(\w+)"\s*,\s*XS_CONFIG_\w+\s*,\s*('
                         + TOKENS + r')\s*,', text):
        tokens = re.findall(r'"[^"]*"|\w+', m.group(2))
        table[m.group(1)] = None if tokens == ["NULL"] else resolve(tokens)
    return table


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def read_unit(path):
    unit = configparser.ConfigParser(strict=False, interpolation=None,
                                     delimiters=("=",), comment_prefixes=("#", ";"))
    unit.optionxform = str
    unit.read(path)
    return unit


def commented_settings(path):
    """Returns ({section: {key: default}}, active) from an INI file whose
    settings are all written as `;key = default` comments."""
    sections, active, current = {}, [], None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1]
                sections[current] = {}
            elif line.startswith(";") and "=" in line and current:
                key, value = line[1:].split("=", 1)
                sections[current][key.strip()] = value.strip()
            elif line and not line.startswith(("#", ";")):
                active.append(line)
    return sections, active


class InstallLayoutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="xensm-layout-")
        cls.build = os.path.join(cls.tmp, "build")
        cls.root = os.path.join(cls.tmp, "root")
        run(["cmake", "-S", SOURCE, "-B", cls.build, "-DCMAKE_INSTALL_PREFIX=/usr",
             "-DCMAKE_BUILD_TYPE=Debug", "-DBUILD_TESTING=OFF", "-DXENSM_BENCH=OFF"])
        run(["cmake", "--build", cls.build, "-j2", "--target"] + PROGRAMS)
        cls.install()

    @classmethod
    def install(cls, components=("catalog", "host")):
        # Each component alone in its own root (test_components_are_the_packages),
        # and both into the one root the other tests look at.
        for component in components:
            for root in (cls.root, os.path.join(cls.tmp, "root-" + component)):
                env = dict(os.environ, DESTDIR=root)
                run(["cmake", "--install", cls.build, "--component", component], env=env)

    def test_components_are_the_packages(self):
        for component, layout in COMPONENTS.items():
            root = os.path.join(self.tmp, "root-" + component)
            found = set()
            for dirpath, dirnames, filenames in os.walk(root):
                for name in dirnames + filenames:
                    rel = os.path.relpath(os.path.join(dirpath, name), root)
                    if not any(p.startswith(rel + "/") for p in layout):
                        found.add(rel)
            self.assertEqual(found, set(layout), f"component {component}")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, rel):
        return os.path.join(self.root, rel)

    def test_every_path_and_mode(self):
        for rel, (kind, mode) in LAYOUT.items():
            with self.subTest(path=rel):
                st = os.lstat(self.path(rel))
                self.assertEqual(stat.S_ISDIR(st.st_mode), kind == "d")
                self.assertEqual(stat.S_IMODE(st.st_mode), mode, f"{rel}: {oct(st.st_mode)}")

    def test_nothing_else_installed(self):
        found = set()
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in dirnames + filenames:
                rel = os.path.relpath(os.path.join(dirpath, name), self.root)
                if not any(p.startswith(rel + "/") for p in LAYOUT):
                    found.add(rel)
        self.assertEqual(found, set(LAYOUT))

    def test_reinstall_restores_private_directory_modes(self):
        os.chmod(self.path("var/lib/xensm"), 0o755)
        os.chmod(self.path("etc/xensm/keys"), 0o777)
        self.install()
        self.assertEqual(stat.S_IMODE(os.stat(self.path("var/lib/xensm")).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("etc/xensm/keys")).st_mode), 0o700)

    def check_unit(self, name, program, config):
        unit = read_unit(self.path(f"usr/lib/systemd/system/{name}"))
        svc = unit["Service"]
        self.assertEqual(svc["ExecStart"], f"/usr/sbin/{program} --foreground -c /etc/xensm/{config}")
        self.assertEqual(svc.get("Type", "simple"), "simple")     # foreground, no PID file
        self.assertNotIn("PIDFile", svc)
        self.assertEqual(svc["Restart"], "on-failure")
        self.assertEqual(svc["StandardOutput"], "journal")
        self.assertEqual(svc["StandardError"], "journal")
        for key, value in HARDENING.items():
            self.assertEqual(svc.get(key), value, f"{name}: {key}")
        self.assertEqual(unit["Install"]["WantedBy"], "multi-user.target")
        return svc

    def test_catalog_unit(self):
        svc = self.check_unit("xensm-catalogd.service", "xensm-catalogd", "catalog.cfg")
        self.assertEqual(svc["ReadWritePaths"], "/var/lib/xensm")
        self.assertEqual(svc["RuntimeDirectory"], "xensm")      # /run/xensm/admin.sock
        self.assertEqual(svc["RuntimeDirectoryMode"], "0700")

    def test_agent_unit_keeps_xapi_socket_reachable(self):
        svc = self.check_unit("xensm-agentd.service", "xensm-agentd", "agent.cfg")
        # The socket must stay visible and connectable: not hidden, not
        # behind a private network, AF_UNIX allowed.
        for key in ("InaccessiblePaths", "TemporaryFileSystem", "PrivateNetwork",
                    "IPAddressDeny", "ProtectProc"):
            self.assertNotIn(key, svc, f"{key} could cut the agent off /var/lib/xcp/xapi")
        self.assertIn("AF_UNIX", svc["RestrictAddressFamilies"].split())
        self.assertIn("xapi.service", read_unit(
            self.path("usr/lib/systemd/system/xensm-agentd.service"))["Unit"]["After"].split())

    def test_units_verify_clean(self):
        analyze = shutil.which("systemd-analyze")
        if not analyze:
            self.skipTest("systemd-analyze is not installed")
        copies = []
        for name in ("xensm-catalogd.service", "xensm-agentd.service"):
            src = self.path(f"usr/lib/systemd/system/{name}")
            dst = os.path.join(self.tmp, name)
            # verify insists that ExecStart's program exists on this machine
            with open(src) as f, open(dst, "w") as g:
                for line in f:
                    if line.startswith("ExecStart="):
                        line = "ExecStart=/bin/true " + line.split(" ", 1)[1]
                    g.write(line)
            copies.append(dst)
        r = subprocess.run([analyze, "verify", "--man=no", "--generators=no", *copies],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "", "systemd-analyze verify warned")

    def check_config(self, rel, section, expected):
        sections, active = commented_settings(self.path(rel))
        self.assertEqual(active, [], f"{rel}: settings must be commented defaults")
        self.assertEqual(list(sections), [section])
        self.assertEqual(sections[section], expected)
        # Uncommented, it is valid INI that a parser reads back unchanged.
        with open(self.path(rel)) as f:
            lines = f.read().splitlines()
        text = "\n".join(line[1:] if line.startswith(";") and "=" in line else line
                         for line in lines)
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read_string(text)
        self.assertEqual(dict(cfg[section]), expected)

    def test_catalog_config(self):
        self.check_config("etc/xensm/catalog.cfg", "catalog", CATALOG_KEYS)

    def test_agent_config(self):
        self.check_config("etc/xensm/agent.cfg", "agent", AGENT_KEYS)

    def test_plugin_config(self):
        self.check_config("etc/xensm/plugin.cfg", "plugin", PLUGIN_KEYS)

    def check_against_code(self, section, shipped):
        rel, pending = CODE_TABLES[section]
        table = code_settings(rel)
        if table is None:
            self.skipTest(f"{rel} does not exist yet")
        self.assertTrue(table, f"no settings table found in {rel}")
        self.assertEqual(sorted(set(table) - set(shipped)), [],
                         f"settings of {rel} missing from packaging/config/{section}.cfg.in")
        self.assertEqual(sorted(set(shipped) - set(table) - pending), [],
                         f"packaging/config/{section}.cfg.in documents settings {rel} lacks")
        for key, default in table.items():
            if default not in (None, "?"):
                self.assertEqual(shipped[key], default, f"[{section}] {key}: default in {rel}")

    def test_catalogd_starts_with_shipped_config_uncommented(self):
        catalogd = os.environ.get("XENSM_PROG_XENSM_CATALOGD", "")
        if not os.access(catalogd, os.X_OK):
            self.skipTest("xensm-catalogd is not built")
        table = code_settings(CODE_TABLES["catalog"][0]) or {}
        # Every setting of the shipped file that the daemon knows, uncommented.
        lines = []
        with open(self.path("etc/xensm/catalog.cfg")) as f:
            for line in f.read().splitlines():
                m = re.match(r"^;(\w+)\s*=", line)
                if m and m.group(1) in table:
                    line = line[1:]
                lines.append(line)
        work = tempfile.mkdtemp(prefix="xensm-cfg-", dir=self.tmp)
        cfg = os.path.join(work, "catalog.cfg")
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        read_fd, write_fd = os.pipe()
        env = dict(os.environ, XENSM_READY_FD=str(write_fd))
        # The file's paths are the installed ones: the flags move them here.
        proc = subprocess.Popen([catalogd, "-c", cfg, "--foreground",
                                 "--db", os.path.join(work, "catalog.db"),
                                 "--admin", f"ipc://{work}/admin.sock",
                                 "--agent", "tcp://127.0.0.1:*",
                                 "--api", "127.0.0.1:0",
                                 "--cert", os.path.join(work, "catalog.cert"),
                                 "--agent-keys", os.path.join(work, "agents")],
                                env=env, pass_fds=(write_fd,), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        os.close(write_fd)
        try:
            with os.fdopen(read_fd, "rb") as ready:
                r, _, _ = select.select([ready], [], [], 30)
                said = ready.readline() if r else b""
            if said != b"READY\n":
                proc.kill()
                out, err = proc.communicate(timeout=30)
                self.fail(f"xensm-catalogd refused the shipped catalog.cfg: {err}")
            proc.terminate()
            self.assertEqual(proc.wait(timeout=30), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()

    def test_catalog_config_matches_catalogd(self):
        self.check_against_code("catalog", CATALOG_KEYS)

    def test_agent_config_matches_agentd(self):
        self.check_against_code("agent", AGENT_KEYS)

    def test_plugin_config_matches_the_plugin(self):
        self.check_against_code("plugin", PLUGIN_KEYS)


if __name__ == "__main__":
    unittest.main(verbosity=2)
