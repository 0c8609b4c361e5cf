"""The host programs, static (XENSM_STATIC_HOST), each in an empty root.

Issue 14: on a dom0 nothing of the build host's userland is there. Each test
builds a root directory holding only the program(s), their config, their keys
and xapi's socket (the simulator's unix socket, bind-mounted where a dom0 has
it, /var/lib/xcp/xapi), and runs the program chrooted into it in a new user
and mount namespace (unshare -rm): no dynamic loader, no shared library, no
/etc/nsswitch.conf, no /dev. The network namespace is the test's, so the
catalog and the simulator are reached over loopback.

  - xensm-agentd makes its key pair there, registers with a real
    xensm-catalogd over loopback TCP (CURVE), attaches an NFS SR, creates a
    volume's VDI on the simulator and deletes it again;
  - the xensm plugin answers ping (itself) and host_info (through its helper
    xensm-xapi, exec()ed inside the root, calling xapi over the socket).

Skipped unless the build was configured with XENSM_STATIC_HOST=ON.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import xmlrpc.client

import xsm

ROOT_SCRIPT = ('sock=$1 root=$2; shift 2; '
               'mount --bind "$sock" "$root/var/lib/xcp/xapi" && exec chroot "$root" "$@"')
AGENTD_IN_ROOT = "/usr/sbin/xensm-agentd"
PLUGIN_IN_ROOT = "/etc/xapi.d/plugins/xensm"
HELPER_IN_ROOT = "/usr/libexec/xensm/xensm-xapi"


def in_root(root, xapi_socket, argv):
    """The command line that runs argv chrooted into root, xapi_socket bound in."""
    return ["unshare", "-rm", "--", "sh", "-c", ROOT_SCRIPT, "sh", xapi_socket, root] + argv


def make_root(base, files):
    """A root directory holding only `files` ({path in root: source file}) and
    an empty /var/lib/xcp/xapi to bind xapi's socket on."""
    root = os.path.join(base, "root")
    for dest, src in files.items():
        path = os.path.join(root, dest.lstrip("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy2(src, path)
    os.makedirs(os.path.join(root, "var/lib/xcp"), exist_ok=True)
    open(os.path.join(root, "var/lib/xcp/xapi"), "w").close()
    return root


def root_listing(root):
    out = set()
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            out.add("/" + os.path.relpath(os.path.join(dirpath, name), root))
    return out


@unittest.skipUnless(os.environ.get("XENSM_STATIC_HOST") in ("ON", "TRUE", "1", "YES"),
                     "build not configured with XENSM_STATIC_HOST=ON")
class StaticRootTest(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="xsm-root-")
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.w = xsm.World(self, self.workdir, start_agents=False)
        self.host = self.w.sim.host("a1")

    def run_in_root(self, root, argv, **kw):
        return subprocess.run(in_root(root, self.host["unix"], argv), capture_output=True,
                              text=True, timeout=60, env=xsm.clean_env(**kw.pop("env", {})),
                              **kw)

    def test_agentd_registers_and_creates_and_deletes_a_vdi(self):
        w = self.w
        cfg = os.path.join(self.workdir, "agent.cfg")
        with open(cfg, "w") as f:
            f.write("[agent]\n"
                    f"catalog_endpoint = {w.agent_endpoint}\n"
                    "zone = za\n"
                    f"host_uuid = {self.host['uuid']}\n"
                    "name = a1\n"
                    "xapi_url = unix:/var/lib/xcp/xapi\n"
                    "xapi_username = root\n"
                    "cert = /etc/xensm/keys/agent.cert\n"
                    "catalog_key = /etc/xensm/keys/catalog.cert\n")
        root = make_root(self.workdir, {AGENTD_IN_ROOT: xsm.AGENTD, "/etc/xensm/agent.cfg": cfg,
                                        "/etc/xensm/keys/catalog.cert": w.catalogd.cert})
        # Its key pair, made by the static agent inside the root.
        p = self.run_in_root(root, [AGENTD_IN_ROOT, "--gen-cert", "/etc/xensm/keys/agent.cert"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(root_listing(root), {
            AGENTD_IN_ROOT, "/etc/xensm/agent.cfg", "/etc/xensm/keys/catalog.cert",
            "/etc/xensm/keys/agent.cert", "/etc/xensm/keys/agent.cert_secret",
            "/var/lib/xcp/xapi"})
        w.ok("host", "enroll", os.path.join(root, "etc/xensm/keys/agent.cert"))

        # Registered with the catalog: READY on XENSM_READY_FD.
        log_path = os.path.join(self.workdir, "agent.log")
        rfd, wfd = os.pipe()
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                in_root(root, self.host["unix"],
                        [AGENTD_IN_ROOT, "-c", "/etc/xensm/agent.cfg", "--foreground", "-v"]),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(wfd,),
                env=xsm.clean_env(XENSM_READY_FD=str(wfd)))
        os.close(wfd)

        def stop():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        self.addCleanup(stop)
        try:
            data, _ = xsm.wait_ready(rfd, xsm.READY_TIMEOUT)
        finally:
            os.close(rfd)
        self.assertEqual(data, b"READY\n", "no READY from the agent in its root:\n"
                         + xsm.read_log(log_path))
        self.assertEqual([h["state"] for h in w.hosts() if h["name"] == "a1"], ["up"])

        # A backend on it, a volume's VDI created and deleted through it.
        w.ok("sm", "flavor_create", "gold", "NFS in za")
        w.ok("--yes", "sm", "backend_add", "gold", "nfs", "name_label=gold-1", "server=filer",
             "serverpath=/g1", "zone=za")
        w.wait_attached({"za": 1})
        volume = w.json("volume", "create", "--flavor", "gold", "--size", "1G")["volume"]
        self.assertEqual(volume["state"], "available", volume)
        vdis = w.tagged_vdis().get(volume["uuid"], [])
        self.assertEqual([v["uuid"] for v in vdis], [volume["vdi_uuid"]])
        deleted = w.json("volume", "delete", volume["uuid"])["volume"]
        self.assertEqual(deleted["state"], "deleted", deleted)
        self.assertEqual(w.tagged_vdis().get(volume["uuid"], []), [])
        self.assertIsNone(proc.poll(), "the agent stopped:\n" + xsm.read_log(log_path))

    def test_root_has_no_userland(self):
        """The control: a dynamic program (xensm-catalogd) cannot even start
        in such a root, so the runs above owe nothing to the build host."""
        root = make_root(self.workdir, {"/usr/sbin/xensm-catalogd": xsm.CATALOGD})
        p = self.run_in_root(root, ["/usr/sbin/xensm-catalogd", "--version"])
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertNotIn("xensm-catalogd", p.stdout)

    def test_plugin_answers_ping_and_host_info(self):
        # The plugin's settings (where its --help says) and the host's
        # inventory, as a dom0 has them: the plugin acts on the host it runs on.
        out = subprocess.run([xsm.program("xensm"), "--help"], capture_output=True,
                             text=True, check=True).stdout
        settings_in_root = re.search(r"^Settings: (\S+)", out, re.M).group(1)
        settings = os.path.join(self.workdir, "plugin.cfg")
        with open(settings, "w") as f:
            f.write("[plugin]\nhelper = %s\nxapi_url = unix:/var/lib/xcp/xapi\n"
                    % HELPER_IN_ROOT)
        inventory = os.path.join(self.workdir, "xensource-inventory")
        with open(inventory, "w") as f:
            f.write("INSTALLATION_UUID='%s'\n" % self.host["uuid"])
        root = make_root(self.workdir, {PLUGIN_IN_ROOT: xsm.program("xensm"),
                                        HELPER_IN_ROOT: xsm.program("xensm-xapi"),
                                        settings_in_root: settings,
                                        "/etc/xensource-inventory": inventory})
        self.assertEqual(root_listing(root), {PLUGIN_IN_ROOT, HELPER_IN_ROOT, settings_in_root,
                                              "/etc/xensource-inventory", "/var/lib/xcp/xapi"})
        session = self.w.sim.login("a1", password="")

        def call(fn):
            request = xmlrpc.client.dumps((session, {}), fn)
            p = self.run_in_root(root, [PLUGIN_IN_ROOT, request], env={})
            self.assertEqual(p.returncode, 0, p.stderr)
            (result,), _ = xmlrpc.client.loads(p.stdout)
            self.assertEqual(result["Status"], "Success", result)
            return json.loads(result["Value"])

        self.assertEqual(call("ping")["reply"], "pong")
        info = call("host_info")            # the helper, exec()ed in the root, over the socket
        self.assertEqual(info["uuid"], self.host["uuid"])
        self.assertTrue(info["is_pool_master"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
