"""xensm-manage against a real xensm-catalogd: the seed examples, the nova-manage
layout, --json, prefixes, the backend_add prompt, every refusal, redaction."""
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xsm  # noqa: E402

NFS_ARGS = ["name_label=toybox-renuka", "server=myserver", "serverpath=/local/scratch/myname"]
SECRET = "S3cr3t-Chap=Value with spaces"
SR_UUID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


class SeedExamples(xsm.CatalogTestCase):

    def test_seed_examples(self):
        # xensm-manage sm flavor_create gold "Not all that glitters"
        p = self.assertOk(self.manage("sm", "flavor_create", "gold", "Not all that glitters"))
        self.assertIn("gold", p.stdout)
        # xensm-manage sm flavor_list [label]
        p = self.assertOk(self.manage("sm", "flavor_list"))
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], "%-18s\t%-20s\t%s" % ("id", "Label", "Description"))
        self.assertEqual(lines[1], "%-18s\t%-20s\t%s" % ("1", "gold", "Not all that glitters"))
        self.assertEqual(len(lines), 2)
        p = self.assertOk(self.manage("sm", "flavor_list", "gold"))
        self.assertEqual(len(p.stdout.splitlines()), 2)
        # xensm-manage sm backend_add gold nfs name_label=... (--yes: no terminal here)
        p = self.assertOk(self.manage("--yes", "sm", "backend_add", "gold", "nfs", *NFS_ARGS))
        self.assertIn("backend 1 added", p.stdout)
        self.assertIn("WARNING", p.stderr)            # a new SR formats storage
        # xensm-manage sm backend_list [id]: shows the backend with its config
        for args in (("sm", "backend_list"), ("sm", "backend_list", "1")):
            p = self.assertOk(self.manage(*args))
            lines = p.stdout.splitlines()
            self.assertEqual(lines[0], "%-5s %-10s %-40s %-10s %s" % (
                "id", "Flavor id", "SR UUID", "SR Type", "Config Parameters"))
            self.assertEqual(len(lines), 2)
            self.assertEqual(lines[1], "%-5s %-10s %-40s %-10s %s" % (
                "1", "1", "-", "nfs", " ".join(NFS_ARGS) + " zone=default"))
        # flavor_delete refuses while the backend uses the flavor
        self.assertExit(self.manage("sm", "flavor_delete", "gold"), 1, "flavor gold",
                        "backend")
        # xensm-manage sm backend_remove 1
        p = self.assertOk(self.manage("sm", "backend_remove", "1"))
        self.assertIn("backend 1 removed", p.stdout)
        self.assertEqual(self.backends(), [])
        # xensm-manage sm flavor_delete gold
        self.assertOk(self.manage("sm", "flavor_delete", "gold"))
        self.assertEqual(self.flavors(), [])

    def test_seed_order_verbatim(self):
        """The seed's four lines in their order: the flavor is gone when
        backend_add runs, so it is refused, and so is removing backend 1."""
        self.assertOk(self.manage("sm", "flavor_create", "gold", "Not all that glitters"))
        self.assertOk(self.manage("sm", "flavor_delete", "gold"))
        self.assertExit(self.manage("--yes", "sm", "backend_add", "gold", "nfs", *NFS_ARGS), 2,
                        "flavor gold: not found")
        self.assertExit(self.manage("sm", "backend_remove", "1"), 2, "backend 1: not found")

    def test_json_output(self):
        p = self.assertOk(self.manage("--json", "sm", "flavor_create", "gold", "Not all that glitters"))
        flavor = json.loads(p.stdout)["flavor"]
        self.assertEqual(flavor["label"], "gold")
        self.assertEqual(flavor["description"], "Not all that glitters")
        p = self.assertOk(self.manage("--json", "--yes", "sm", "backend_add", "gold", "nfs",
                                      "options=rw,sec=sys", *NFS_ARGS))
        result = json.loads(p.stdout)
        self.assertTrue(result["creates_sr"])
        b = result["backend"]
        self.assertEqual(b["config"], {"options": "rw,sec=sys", "server": "myserver",
                                       "serverpath": "/local/scratch/myname"})
        self.assertEqual(b["name_label"], "toybox-renuka")
        self.assertEqual(b["flavor"], "gold")
        self.assertEqual(b["state"], "new")
        self.assertIsNone(b["sr_uuid"])
        self.assertEqual(self.backends(), [b])
        # An error in --json mode is JSON too.
        p = self.assertExit(self.manage("--json", "sm", "flavor_list", "nosuch"), 2)
        self.assertEqual(json.loads(p.stdout)["error"]["kind"], "not_found")


class Refusals(xsm.CatalogTestCase):

    def setUp(self):
        super().setUp()
        self.assertOk(self.manage("sm", "flavor_create", "gold", "Not all that glitters"))

    def test_duplicate_label(self):
        self.assertExit(self.manage("sm", "flavor_create", "gold", "again"), 1,
                        "flavor gold", "already exists")
        self.assertEqual(len(self.flavors()), 1)
        self.assertEqual(self.flavors()[0]["description"], "Not all that glitters")

    def test_unknown_sr_type_lists_known_types(self):
        p = self.assertExit(self.manage("--yes", "sm", "backend_add", "gold", "zfs", "pool=x"), 2,
                            "'zfs'")
        for t in ("nfs", "lvmoiscsi", "lvmohba", "iscsi", "hba", "netapp", "equal", "smb",
                  "ext", "lvm", "file"):
            self.assertIn(t, p.stderr)
        self.assertEqual(self.backends(), [])

    def test_missing_required_keys(self):
        self.assertExit(self.manage("--yes", "sm", "backend_add", "gold", "nfs", "server=a"), 2,
                        "nfs", "missing required key(s) serverpath")
        self.assertExit(self.manage("--yes", "sm", "backend_add", "gold", "lvmoiscsi",
                                    "target=10.0.0.1"), 2, "targetIQN, SCSIid")
        self.assertEqual(self.backends(), [])

    def test_type_checked_before_flavor(self):
        # Unknown flavor AND bad keys: the keys are reported (checked first).
        self.assertExit(self.manage("--yes", "sm", "backend_add", "silver", "nfs", "server=a"),
                        2, "serverpath")

    def test_unknown_flavor(self):
        self.assertExit(self.manage("--yes", "sm", "backend_add", "silver", "nfs", *NFS_ARGS), 2,
                        "flavor silver: not found")
        # No prompt is shown for a flavor that does not exist.
        p = self.manage("sm", "backend_add", "silver", "nfs", *NFS_ARGS)
        self.assertNotIn("Proceed", p.stderr)
        self.assertEqual(self.backends(), [])

    def test_no_tty_no_yes_creates_nothing(self):
        p = self.assertExit(self.manage("sm", "backend_add", "gold", "nfs", *NFS_ARGS), 2,
                            "--yes", "nothing was created")
        self.assertNotIn("Proceed", p.stderr)
        self.assertEqual(self.backends(), [])

    def test_sr_uuid_introduces_without_prompt_or_warning(self):
        p = self.assertOk(self.manage("--json", "sm", "backend_add", "gold", "nfs",
                                      "sr_uuid=" + SR_UUID, *NFS_ARGS))
        self.assertNotIn("WARNING", p.stderr)
        self.assertNotIn("Proceed", p.stderr)
        result = json.loads(p.stdout)
        self.assertFalse(result["creates_sr"])
        self.assertEqual(result["backend"]["sr_uuid"], SR_UUID)
        self.assertNotIn("sr_uuid", result["backend"]["config"])
        p = self.assertOk(self.manage("sm", "backend_list"))
        self.assertIn(SR_UUID, p.stdout.splitlines()[1])
        # The same SR cannot back two backends.
        self.assertExit(self.manage("sm", "backend_add", "gold", "nfs",
                                    "sr_uuid=" + SR_UUID, *NFS_ARGS), 1, SR_UUID)
        self.assertExit(self.manage("sm", "backend_add", "gold", "nfs", "sr_uuid=nope",
                                    *NFS_ARGS), 2, "sr_uuid")

    def test_flavor_delete_while_used(self):
        self.assertOk(self.manage("--yes", "sm", "backend_add", "gold", "nfs", *NFS_ARGS))
        self.assertExit(self.manage("sm", "flavor_delete", "gold"), 1, "flavor gold",
                        "still use")
        self.assertEqual([f["label"] for f in self.flavors()], ["gold"])
        self.assertExit(self.manage("sm", "flavor_delete", "silver"), 2, "flavor silver: not found")

    def test_backend_remove_unknown_or_bad_id(self):
        self.assertExit(self.manage("sm", "backend_remove", "42"), 2, "backend 42: not found")
        self.assertExit(self.manage("sm", "backend_remove", "abc"), 2, "'abc'")
        self.assertExit(self.manage("sm", "backend_remove", "-1"), 2, "'-1'")
        self.assertExit(self.manage("sm", "backend_list", "7"), 2, "backend 7: not found")
        self.assertExit(self.manage("sm", "backend_list", "1x"), 2, "'1x'")

    def test_bad_key_value(self):
        for bad, needle in (("server", "expected key=value"), ("=x", "empty key"),
                            ("bad key=x", "bad key")):
            self.assertExit(self.manage("--yes", "sm", "backend_add", "gold", "nfs", bad,
                                        *NFS_ARGS), 2, needle)
        self.assertExit(self.manage("--yes", "sm", "backend_add", "gold", "nfs",
                                    "server=b", *NFS_ARGS), 2, "'server' given twice")
        self.assertExit(self.manage("--yes", "sm", "backend_add", "gold", "nfs", "nfsvers=4",
                                    *NFS_ARGS), 2, "unknown key(s) nfsvers")
        self.assertEqual(self.backends(), [])

    def test_value_kept_whole(self):
        p = self.assertOk(self.manage("--json", "--yes", "sm", "backend_add", "gold", "nfs",
                                      "server=my server", "serverpath=/a=b/c d",
                                      "options=x=1,y=2"))
        self.assertEqual(json.loads(p.stdout)["backend"]["config"],
                         {"server": "my server", "serverpath": "/a=b/c d", "options": "x=1,y=2"})

    def test_zone(self):
        p = self.assertOk(self.manage("--json", "--yes", "--zone", "z1", "sm", "backend_add",
                                      "gold", "nfs", *NFS_ARGS))
        self.assertEqual(json.loads(p.stdout)["backend"]["zone"], "z1")
        p = self.assertOk(self.manage("--json", "--yes", "sm", "backend_add", "gold", "nfs",
                                      "zone=z2", "ratio=1.5", "reserve=10", *NFS_ARGS))
        b = json.loads(p.stdout)["backend"]
        self.assertEqual((b["zone"], b["ratio"], b["reserve"]), ("z2", 1.5, 10))
        self.assertNotIn("zone", b["config"])
        p = self.assertOk(self.manage("--json", "--yes", "sm", "backend_add", "gold", "nfs",
                                      *NFS_ARGS))
        self.assertEqual(json.loads(p.stdout)["backend"]["zone"], "default")
        self.assertExit(self.manage("--yes", "--zone", "z1", "sm", "backend_add", "gold", "nfs",
                                    "zone=z2", *NFS_ARGS), 2, "disagree")
        self.assertExit(self.manage("--yes", "sm", "backend_add", "gold", "nfs", "ratio=0",
                                    *NFS_ARGS), 2, "ratio")


class VolumeAndHostRefusals(xsm.CatalogTestCase):
    """The volume and host commands' own checks, against a catalog without
    agents (the end-to-end tests run them with agents)."""

    def test_volume_create_arguments(self):
        self.assertExit(self.manage("volume", "create", "--size", "1G"), 2, "--flavor")
        self.assertExit(self.manage("volume", "create", "--flavor", "gold"), 2, "--size")
        for size in ("0", "-1G", "1.5G", "10X", "9223372036854775808"):
            self.assertExit(self.manage("volume", "create", "--flavor", "gold", "--size", size),
                            2, "--size '%s'" % size)
        self.assertExit(self.manage("volume", "create", "--flavor", "gold", "--size", "1G",
                                    "--bogus"), 2, "--bogus")
        self.assertExit(self.manage("volume", "create", "--flavor", "gold", "--size", "1G",
                                    "extra"), 2, "extra")
        # A flavor that does not exist: refused by the catalog, nothing stored.
        self.assertExit(self.manage("volume", "create", "--flavor", "gold", "--size", "1G"),
                        2, "gold")
        self.assertEqual(json.loads(self.assertOk(self.manage("--json", "volume", "list",
                                                              "--all")).stdout)["volumes"], [])

    def test_volume_commands_name_the_volume(self):
        missing = "8a5c2a34-1111-2222-3333-444455556666"
        for args in (("volume", "show", missing), ("volume", "delete", missing),
                     ("volume", "snapshot", missing), ("volume", "clone", missing),
                     ("volume", "connection", missing)):
            self.assertExit(self.manage(*args), 2, missing)
        self.assertExit(self.manage("volume", "list", "--bogus"), 2, "--bogus")

    def test_host_enroll_refusals(self):
        missing = os.path.join(self.workdir, "nope.cert")
        self.assertExit(self.manage("host", "enroll", missing), 2, missing)
        secret = os.path.join(self.workdir, "agent.cert_secret")
        with open(secret, "w") as f:
            f.write("whatever")
        self.assertExit(self.manage("host", "enroll", secret), 2, "SECRET", secret)
        empty = os.path.join(self.workdir, "empty.cert")
        open(empty, "w").close()
        self.assertExit(self.manage("host", "enroll", empty), 2, "empty")
        big = os.path.join(self.workdir, "big.cert")
        with open(big, "w") as f:
            f.write("x" * 5000)
        self.assertExit(self.manage("host", "enroll", big), 2, "4096")
        garbage = os.path.join(self.workdir, "garbage.cert")
        with open(garbage, "w") as f:
            f.write("not a certificate\n")
        p = self.manage("host", "enroll", garbage)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("key", p.stderr)
        hosts = json.loads(self.assertOk(self.manage("--json", "host", "list")).stdout)["hosts"]
        self.assertEqual(hosts, [])

    def test_host_remove_needs_confirmation(self):
        p = self.manage("host", "remove", "8a5c2a34-1111-2222-3333-444455556666")
        self.assertExit(p, 2, "--yes")
        self.assertExit(self.manage("--yes", "host", "remove",
                                    "8a5c2a34-1111-2222-3333-444455556666"), 2,
                        "8a5c2a34-1111-2222-3333-444455556666")

    def test_catalog_status(self):
        status = json.loads(self.assertOk(self.manage("--json", "catalog", "status")).stdout)
        self.assertTrue(status["agent_endpoint"].startswith("tcp://127.0.0.1:"))
        self.assertEqual(len(status["catalog_key"]), 40)
        # One catalogd on its database: it leads, with a lease that holds.
        self.assertEqual(status["role"], "leader")
        self.assertEqual([i["leads"] for i in status["instances"]], [True])
        self.assertGreater(status["leader"]["lease_left_ms"], 3600 * 1000)
        text = self.assertOk(self.manage("catalog", "status")).stdout
        self.assertIn(status["catalog_key"], text)
        self.assertIn("role:           leader\n", text)


class Prompt(xsm.CatalogTestCase):
    """backend_add on a terminal asks `Proceed? (y/n)` (pty from Python)."""

    def run_on_tty(self, args, answer):
        master, slave = pty.openpty()
        env = xsm.clean_env(XENSM_ADMIN_ENDPOINT=self.catalogd.endpoint)
        proc = subprocess.Popen([xsm.MANAGE] + args, stdin=slave, stderr=slave,
                                stdout=subprocess.PIPE, env=env)
        os.close(slave)
        seen = b""
        answered = False
        deadline = time.monotonic() + 20
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.5)
                if ready:
                    try:
                        chunk = os.read(master, 4096)
                    except OSError:
                        break               # EIO: the child closed the tty
                    if not chunk:
                        break
                    seen += chunk
                    if not answered and b"Proceed? (y/n)" in seen:
                        os.write(master, answer.encode() + b"\n")
                        answered = True
                elif proc.poll() is not None:
                    break
            out = proc.communicate(timeout=20)[0].decode()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
        return proc.returncode, out, seen.decode(errors="replace"), answered

    def setUp(self):
        super().setUp()
        self.assertOk(self.manage("sm", "flavor_create", "gold", "g"))

    def test_answer_yes_creates(self):
        rc, out, tty, answered = self.run_on_tty(["sm", "backend_add", "gold", "nfs"] + NFS_ARGS,
                                                 "y")
        self.assertTrue(answered, tty)
        self.assertIn("WARNING", tty)
        self.assertEqual(rc, 0, tty)
        self.assertIn("backend 1 added", out)
        self.assertEqual(len(self.backends()), 1)

    def test_answer_no_creates_nothing(self):
        rc, out, tty, answered = self.run_on_tty(["sm", "backend_add", "gold", "nfs"] + NFS_ARGS,
                                                 "n")
        self.assertTrue(answered, tty)
        self.assertEqual(rc, 1, tty)
        self.assertIn("nothing was created", tty)
        self.assertEqual(self.backends(), [])

    def test_yes_flag_skips_prompt_on_tty(self):
        rc, out, tty, answered = self.run_on_tty(
            ["--yes", "sm", "backend_add", "gold", "nfs"] + NFS_ARGS, "n")
        self.assertFalse(answered)
        self.assertEqual(rc, 0, tty)
        self.assertEqual(len(self.backends()), 1)


class Dispatch(xsm.CatalogTestCase):

    def test_prefixes(self):
        self.assertOk(self.manage("SM", "FLAVOR_C", "gold", "g"))
        p = self.assertOk(self.manage("s", "flavor_l"))
        self.assertIn("gold", p.stdout)
        p = self.assertOk(self.manage("Sm", "Backend_L"))
        self.assertIn("Config Parameters", p.stdout)
        p = self.assertExit(self.manage("sm", "flavor_", "x"), 2, "ambiguous", "flavor_create",
                            "flavor_list", "flavor_delete")
        self.assertNotIn("backend_add", p.stderr)
        self.assertExit(self.manage("sm", "backend"), 2, "ambiguous", "backend_add",
                        "backend_list", "backend_remove")
        self.assertExit(self.manage("sm", "nosuch"), 2, "unknown action 'nosuch'", "flavor_create")
        self.assertExit(self.manage("xx", "flavor_list"), 2, "unknown category 'xx'", "sm")
        self.assertExit(self.manage("sm"), 2, "missing action")
        self.assertExit(self.manage(), 2, "usage")

    def test_argument_counts(self):
        self.assertExit(self.manage("sm", "flavor_create", "gold"), 2,
                        "expected 2 argument(s), got 1", "usage: xensm-manage")
        self.assertExit(self.manage("sm", "flavor_list", "a", "b"), 2, "expected 0 to 1")
        self.assertExit(self.manage("sm", "backend_add", "gold"), 2, "at least 2")
        self.assertExit(self.manage("--bogus", "sm", "flavor_list"), 2, "--bogus")

    def test_help_for_every_command(self):
        p = self.assertOk(self.manage("--help"))
        commands = re.findall(r"^  sm (\w+)", p.stdout, re.M)
        self.assertEqual(sorted(commands), sorted(["flavor_create", "flavor_list",
                                                   "flavor_delete", "backend_add",
                                                   "backend_list", "backend_remove",
                                                   "backend_delete"]))
        for action in commands:
            p = self.assertOk(self.manage("sm", action, "--help"))
            self.assertIn("usage: xensm-manage [options] sm %s" % action, p.stdout)
            self.assertGreater(len(p.stdout.splitlines()), 2)
        p = self.assertOk(self.manage("sm", "--help"))
        self.assertIn("sm backend_add", p.stdout)

    def test_endpoint_precedence(self):
        bogus = "ipc://%s/nowhere.sock" % self.workdir
        real = self.catalogd.endpoint
        # --endpoint beats the environment
        self.assertOk(xsm.manage(["--endpoint", real, "sm", "flavor_list"], endpoint=bogus))
        # the environment beats the config file
        cfg = os.path.join(self.workdir, "client.cfg")
        with open(cfg, "w") as f:
            f.write("[catalog]\nadmin_endpoint = %s\n" % bogus)
        self.assertOk(xsm.manage(["sm", "flavor_list"], endpoint=real,
                                 env_extra={"XENSM_CONFIG": cfg}))
        # the config file is used when nothing else is given
        with open(cfg, "w") as f:
            f.write("[catalog]\nadmin_endpoint = %s\n" % real)
        self.assertOk(xsm.manage(["sm", "flavor_list"], env_extra={"XENSM_CONFIG": cfg}))
        p = xsm.manage(["sm", "flavor_list"], endpoint=bogus)
        self.assertEqual(p.returncode, 1)
        self.assertIn("nowhere.sock", p.stderr)

    def test_dead_daemon_never_hangs(self):
        self.assertEqual(self.catalogd.stop(), 0)
        start = time.monotonic()
        self.assertExit(self.manage("sm", "flavor_list"), 1, "xensm-catalogd running")
        # An endpoint nobody listens on: the refused connection ends the
        # wait at once, long before the timeout (a list moves on; one that
        # accepts and never answers ends at the timeout: test_admin_client).
        t0 = time.monotonic()
        self.assertExit(self.manage("--timeout", "30", "--endpoint", "tcp://127.0.0.1:9",
                                    "sm", "flavor_list"), 1, "nothing listens there")
        self.assertLess(time.monotonic() - t0, 10)
        self.assertLess(time.monotonic() - start, 10)


class Redaction(xsm.CatalogTestCase):

    def test_secrets_never_shown(self):
        self.assertOk(self.manage("sm", "flavor_create", "gold", "g"))
        args = ["target=10.0.0.1", "targetIQN=iqn.2004-04.com:x", "SCSIid=36001",
                "chapuser=admin", "chappassword=" + SECRET,
                "incoming_chappassword=" + SECRET + "2"]
        p = self.assertOk(self.manage("--yes", "sm", "backend_add", "gold", "lvmoiscsi", *args))
        self.assertNotIn(SECRET, p.stdout + p.stderr)
        p = self.assertOk(self.manage("--json", "--yes", "sm", "backend_add", "gold", "lvmoiscsi",
                                      *args))
        self.assertNotIn(SECRET, p.stdout + p.stderr)
        # table
        p = self.assertOk(self.manage("sm", "backend_list"))
        self.assertNotIn(SECRET, p.stdout)
        self.assertIn("chappassword=******", p.stdout)
        self.assertIn("incoming_chappassword=******", p.stdout)
        self.assertIn("chapuser=admin", p.stdout)
        # json, both the list and one backend
        for extra in ([], ["1"]):
            p = self.assertOk(self.manage("--json", "sm", "backend_list", *extra))
            self.assertNotIn(SECRET, p.stdout)
            config = json.loads(p.stdout)["backends"][0]["config"]
            self.assertEqual(config["chappassword"], "******")
            self.assertEqual(config["SCSIid"], "36001")
        # errors that involve a secret key do not echo its value
        p = self.manage("--yes", "sm", "backend_add", "gold", "lvmoiscsi", *args,
                        "chappassword=" + SECRET + "3")
        self.assertEqual(p.returncode, 2)
        self.assertNotIn(SECRET, p.stdout + p.stderr)
        # the daemon's log (debug level) never holds the secret
        self.assertEqual(self.catalogd.stop(), 0)
        log = self.catalogd.log()
        self.assertIn("backend 1 added", log)
        self.assertNotIn(SECRET, log)
        self.assertNotIn("S3cr3t", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
