"""Several xensm-catalogd on one PostgreSQL database, one leader (label pg).

Two real catalogd on one database of a real PostgreSQL 15: one leads, the
other follows (serves the admin reads and the API's GETs from the database,
refuses changes with not_leader naming the leader, sends the API's changes
to the leader's API with 307). kill -9 of the leader: the follower leads
within seconds. SIGSTOP of the leader until the other took over, then
SIGCONT: the old leader's pending write fails, nothing of it is stored, and
it steps down to follower.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import osclients  # noqa: E402
import xsm  # noqa: E402

LEASE_MS = 2000
RETRY_MS = 200


class TwoCatalogs(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="xsm-ha-")
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db = xsm.pg_database()
        self.cats = {}
        for name in ("a", "b"):
            d = os.path.join(self.workdir, name)
            os.makedirs(os.path.join(d, "run"))
            cfg = os.path.join(d, "catalog.cfg")
            with open(cfg, "w") as f:
                f.write("[catalog]\ninstance = cat-%s\nleader_lease_ms = %d\n"
                        "leader_retry_ms = %d\n" % (name, LEASE_MS, RETRY_MS))
            cat = xsm.Catalogd(d, db=self.db, config=cfg)
            self.addCleanup(self.cont_and_kill, cat)
            self.cats[name] = cat
        self.cats["a"].start()
        xsm.wait_for("cat-a leads", lambda: self.role("a") == "leader", timeout=20)
        self.cats["b"].start()

    def cont_and_kill(self, cat):
        if cat.proc is not None and cat.proc.poll() is None:
            cat.proc.send_signal(signal.SIGCONT)
        elif cat.proc is not None:
            print("catalogd exited with %s:\n%s" % (cat.proc.returncode, cat.log()[-3000:]))
        cat.kill()

    def role(self, name):
        return self.cats[name].ping().get("role")

    def manage(self, name, *args, timeout=30):
        return xsm.manage(list(args), endpoint=self.cats[name].endpoint, timeout=timeout)

    def flavors(self, name):
        p = self.manage(name, "--json", "sm", "flavor_list")
        self.assertEqual(p.returncode, 0, p.stderr)
        return sorted(f["label"] for f in json.loads(p.stdout)["flavors"])

    def assert_follower_of(self, follower, leader):
        info = self.cats[follower].ping()
        self.assertEqual(info["role"], "follower")
        self.assertEqual(info["leader"]["instance"], "cat-" + leader)
        rc, lines = xsm.rawsend(self.cats[follower].endpoint,
                                ["e:", "s:" + xsm.request("flavor_create",
                                                          {"label": "nope"})])
        self.assertEqual(rc, 0, lines)
        reply = json.loads(lines[1])
        self.assertFalse(reply["ok"])
        self.assertEqual(reply["error"]["code"], "not_leader")
        self.assertIn("does not lead", reply["error"]["message"])
        self.assertIn("admin_endpoint=" + self.cats[leader].endpoint,
                      reply["error"]["message"])

    def test_follower_status_and_kill9_takeover(self):
        self.assertEqual(self.role("a"), "leader")
        self.assert_follower_of("b", "a")
        for i in range(5):
            p = self.manage("a", "sm", "flavor_create", "f%d" % i, "d")
            self.assertEqual(p.returncode, 0, p.stderr)
        # catalog status, from either, shows both instances and the leader.
        p = self.manage("b", "--json", "catalog", "status")
        self.assertEqual(p.returncode, 0, p.stderr)
        status = json.loads(p.stdout)
        self.assertEqual(status["role"], "follower")
        self.assertEqual(status["leader"]["instance"], "cat-a")
        self.assertEqual(status["leader"]["admin_endpoint"], self.cats["a"].endpoint)
        self.assertGreater(status["leader"]["since"], 0)
        self.assertEqual(sorted(r["instance"] for r in status["instances"]),
                         ["cat-a", "cat-b"])
        self.assertEqual([r["instance"] for r in status["instances"] if r["leads"]],
                         ["cat-a"])
        # The CLI follows: a follower's endpoint, or a list, reaches the leader.
        self.assertEqual(self.manage("b", "sm", "flavor_create", "via-b", "d").returncode, 0)
        both = "%s,%s" % (self.cats["b"].endpoint, self.cats["a"].endpoint)
        p = xsm.manage(["sm", "flavor_create", "via-list", "d"], endpoint=both)
        self.assertEqual(p.returncode, 0, p.stderr)
        text = self.manage("a", "catalog", "status").stdout
        self.assertIn("leader:         cat-a since ", text)
        generation = status["leader"]["generation"]
        # kill -9 of the leader: its session ends, the follower leads.
        t0 = time.monotonic()
        self.cats["a"].proc.kill()
        self.cats["a"].proc.wait()
        xsm.wait_for("cat-b leads", lambda: self.role("b") == "leader", timeout=10)
        took = time.monotonic() - t0
        self.assertLess(took, 10.0)
        info = self.cats["b"].ping()
        self.assertEqual(info["leader"]["generation"], generation + 1)
        self.assertNotIn("following", info["agent_endpoint"])
        p = self.manage("b", "sm", "flavor_create", "after", "d")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.flavors("b"), ["after", "f0", "f1", "f2", "f3", "f4", "via-b",
                                             "via-list"])
        # A list whose first catalogd is gone: the next one answers.
        both = "%s,%s" % (self.cats["a"].endpoint, self.cats["b"].endpoint)
        p = xsm.manage(["sm", "flavor_create", "via-list-2", "d"], endpoint=both)
        self.assertEqual(p.returncode, 0, p.stderr)
        # The old one comes back: it follows.
        self.cats["a"].start()
        self.assert_follower_of("a", "b")
        print("kill -9 to the new leader serving: %.2f s" % took)

    def test_sigstop_leader_is_fenced_and_steps_down(self):
        self.assertEqual(self.manage("a", "sm", "flavor_create", "before", "d").returncode, 0)
        a = self.cats["a"]
        a.proc.send_signal(signal.SIGSTOP)
        # Writes sent to the paused leader wait in its socket: a raw request
        # (it follows nobody) and the CLI (it follows a not_leader answer).
        raw = subprocess.Popen([xsm.RAWSEND, "--timeout", "30000", a.endpoint, "e:",
                                "s:" + xsm.request("flavor_create", {"label": "by-stopped"})],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        env = xsm.clean_env(XENSM_ADMIN_ENDPOINT=a.endpoint)
        cli = subprocess.Popen([xsm.MANAGE, "sm", "flavor_create", "by-cli", "d"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
        for proc in (raw, cli):
            self.addCleanup(lambda p=proc: p.poll() is None and p.kill())
        xsm.wait_for("cat-b takes over", lambda: self.role("b") == "leader", timeout=20)
        self.assertEqual(self.manage("b", "sm", "flavor_create", "by-b", "d").returncode, 0)
        a.proc.send_signal(signal.SIGCONT)
        out, err = raw.communicate(timeout=40)
        reply = json.loads(out.split("\n")[1])
        self.assertFalse(reply["ok"], reply)
        self.assertIn(reply["error"]["code"], ("not_leader", "io"))
        out, err = cli.communicate(timeout=40)
        self.assertEqual(cli.returncode, 0, err)
        # Nothing of the fenced leader's writes is stored; the CLI's went to
        # the new leader, once.
        xsm.wait_for("cat-a steps down", lambda: self.role("a") == "follower", timeout=15)
        self.assertEqual(self.flavors("b"), ["before", "by-b", "by-cli"])
        log = a.log()
        self.assertIn("fenced", log)
        self.assertIn("stepping down to follower", log)
        self.assert_follower_of("a", "b")
        self.assertEqual(self.role("b"), "leader")

    def test_follower_api_without_a_leader_api_answers_503(self):
        # The leader serves no API (api_listen empty): the follower's API
        # still serves GETs from the database, and answers every change with
        # 503 and Retry-After (nowhere to send it), changing nothing.
        a, b = self.cats["a"], self.cats["b"]
        b.kill()
        a.kill()
        a.api_listen = ""
        a.start()
        xsm.wait_for("cat-a leads", lambda: self.role("a") == "leader", timeout=20)
        self.assertIsNone(a.ping().get("api_endpoint"))
        b.start()
        xsm.wait_for("cat-b follows", lambda: self.role("b") == "follower", timeout=20)
        api_b = b.ping()["api_endpoint"]
        status, _, body = http("GET", api_b + "/v3/p1/volumes/detail")
        self.assertEqual((status, body), (200, {"volumes": []}))
        status, headers, body = http("POST", api_b + "/v3/p1/volumes",
                                     {"volume": {"size": 1, "name": "nowhere"}})
        self.assertEqual(status, 503, body)
        self.assertEqual(headers["Retry-After"], "1")
        self.assertIn("does not lead", body["serviceUnavailable"]["message"])
        self.assertEqual(body["serviceUnavailable"]["code"], 503)
        status, _, body = http("GET", api_b + "/v3/p1/volumes")
        self.assertEqual((status, body), (200, {"volumes": []}))


http = xsm.http


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Failover(unittest.TestCase):
    """Two catalogd, one xapisim pool (a1, a2 in zone za), two agents that
    know both catalogd, a stream of creates and deletes through the CLI with
    both admin endpoints; SIGSTOP of the leader until the other took over,
    then kill -9 of the new leader with a create in flight."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="xsm-failover-")
        self.addCleanup(shutil.rmtree, self.workdir, True)
        simctl = xsm.simctl_module()
        self.sim = simctl.Simulator(config={
            "pools": [{"name": "pool-a", "master": "a1", "hosts": ["a1", "a2"]}],
            "users": {"root": ""}, "capacity": []})
        self.addCleanup(self.sim.stop)
        db = xsm.pg_database()
        cert = os.path.join(self.workdir, "catalog.cert")
        keys = os.path.join(self.workdir, "agents")     # one allow-list for both
        self.cats, ports = {}, {}
        for name in ("a", "b"):
            d = os.path.join(self.workdir, name)
            os.makedirs(os.path.join(d, "run"))
            cfg = os.path.join(d, "catalog.cfg")
            with open(cfg, "w") as f:
                f.write("[catalog]\ninstance = cat-%s\nleader_lease_ms = %d\n"
                        "leader_retry_ms = %d\nheartbeat_ms = 500\njob_wait_ms = 15000\n"
                        "agent_timeout_ms = 20000\n" % (name, LEASE_MS, RETRY_MS))
            ports[name] = free_port()
            cat = xsm.Catalogd(d, db=db, config=cfg,
                               agent_endpoint="tcp://127.0.0.1:%d" % ports[name])
            cat.cert, cat.agent_keys = cert, keys
            self.addCleanup(cat.kill)
            self.cats[name] = cat
        self.cats["a"].start()
        xsm.wait_for("cat-a leads", lambda: self.cats["a"].ping()["role"] == "leader")
        self.cats["b"].start()
        self.admin = "%s,%s" % (self.cats["a"].endpoint, self.cats["b"].endpoint)
        catalogs = "tcp://127.0.0.1:%d,tcp://127.0.0.1:%d" % (ports["a"], ports["b"])
        self.agents = {}
        for name in ("a1", "a2"):
            h = self.sim.host(name)
            agent = xsm.Agentd(self.workdir, name, "za", catalogs, cert, h["unix"], h["uuid"],
                               config="")   # default silence_ms (10 s)
            self.addCleanup(agent.kill)
            self.addCleanup(lambda a=agent: a.proc and a.proc.send_signal(signal.SIGCONT))
            agent.gen_cert()
            self.ok("host", "enroll", agent.cert)
            agent.start()
            self.agents[name] = agent
        self.ok("sm", "flavor_create", "gold", "NFS in za")
        self.ok("--yes", "sm", "backend_add", "gold", "nfs", "server=filer",
                "serverpath=/g1", "zone=za")
        def attached():
            hosts = [h for h in self.json("host", "list")["hosts"] if h["state"] == "up"]
            return len(hosts) == 2 and all(
                len([s for s in h["srs"] if "physical_size" in s]) == 1 for h in hosts)
        xsm.wait_for("the SR attached on both hosts", attached, timeout=30)

    def manage(self, *args, timeout=30):
        return xsm.manage(list(args), endpoint=self.admin, timeout=timeout)

    def ok(self, *args):
        p = self.manage(*args)
        self.assertEqual(p.returncode, 0, "%s: %s%s" % (args, p.stdout, p.stderr))
        return p

    def json(self, *args):
        return json.loads(self.ok("--json", *args).stdout)

    def until_ok(self, deadline, *args):
        """Retries one idempotent command until it is acknowledged."""
        while True:
            p = self.manage("--json", "--timeout", "6", *args)
            if p.returncode == 0:
                return json.loads(p.stdout)
            if "not found" in p.stderr and args[:2] == ("volume", "delete"):
                return None                     # an earlier try did it
            if time.monotonic() > deadline:
                raise AssertionError("%s never acknowledged: %s" % (args, p.stderr))
            time.sleep(0.2)                     # the next leader takes a moment

    def pause_leader_until_replaced(self):
        """SIGSTOP cat-a (the leader) with a volume create waiting in its
        socket until cat-b took over; SIGCONT: cat-a is fenced, writes
        nothing, steps down; its agents move to cat-b."""
        a = self.cats["a"]
        a.proc.send_signal(signal.SIGSTOP)
        ghost = subprocess.Popen(
            [xsm.RAWSEND, "--timeout", "30000", a.endpoint, "e:", "s:" + xsm.request(
                "volume_create", {"flavor": "gold", "size": 1 << 30, "name": "ghost",
                                  "request_id": "req-ghost"})],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: ghost.poll() is None and ghost.kill())
        xsm.wait_for("cat-b takes over", lambda: self.cats["b"].ping()["role"] == "leader",
                     timeout=20)
        a.proc.send_signal(signal.SIGCONT)
        out, _ = ghost.communicate(timeout=40)
        reply = json.loads(out.split("\n")[1])
        self.assertFalse(reply["ok"], reply)
        self.assertIn(reply["error"]["code"], ("not_leader", "io"))
        t_took = time.monotonic()
        xsm.wait_for("cat-a steps down", lambda: a.ping()["role"] == "follower", timeout=15)
        self.assertIn("stepping down to follower", a.log())
        # Its agents dropped by it, they register with cat-b. (A create
        # before that waits for them, up to job_wait_ms: DESIGN.md Placement.)
        xsm.wait_for("both hosts up on cat-b", lambda: len(
            [h for h in self.json("host", "list")["hosts"] if h["state"] == "up"]) == 2,
            timeout=10)
        print("SIGCONT to both agents registered with cat-b: %.2f s"
              % (time.monotonic() - t_took))

    def test_follower_serves_reads_and_sends_changes_to_the_leader(self):
        a, b = self.cats["a"], self.cats["b"]
        made = [self.json("volume", "create", "--flavor", "gold", "--size", "1G", "--name",
                          "r%d" % i, "--project", "p1")["volume"] for i in range(2)]
        uuids = sorted(v["uuid"] for v in made)
        names = {v["uuid"]: v["name"] for v in made}
        # Admin reads on the follower alone, from the database.
        def raw(cat, cmd, args=None):
            rc, lines = xsm.rawsend(cat.endpoint, ["e:", "s:" + xsm.request(cmd, args)])
            self.assertEqual(rc, 0, lines)
            return json.loads(lines[1])
        reply = raw(b, "volume_list")
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(sorted(v["uuid"] for v in reply["result"]["volumes"]), uuids)
        reply = raw(b, "volume_show", {"uuid": uuids[0]})
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(reply["result"]["volume"]["state"], "available")
        self.assertTrue(raw(b, "backend_list")["ok"])
        p = xsm.manage(["--json", "volume", "list"], endpoint=b.endpoint)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(json.loads(p.stdout)["volumes"]), 2)
        # Afresh each call: a rename through the leader shows at once.
        self.assertTrue(raw(a, "volume_rename", {"uuid": uuids[0], "name": "renamed"})["ok"])
        reply = raw(b, "volume_show", {"uuid": uuids[0]})
        self.assertEqual(reply["result"]["volume"]["name"], "renamed")
        # Changes, and host_list (the leader's live view), name the leader.
        for cmd, args in (("volume_rename", {"uuid": uuids[1], "name": "no"}),
                          ("volume_delete", {"uuid": uuids[1]}), ("host_list", None)):
            reply = raw(b, cmd, args)
            self.assertFalse(reply["ok"], reply)
            self.assertEqual(reply["error"]["code"], "not_leader")
            self.assertIn("admin_endpoint=" + a.endpoint, reply["error"]["message"])
        # The follower's Block Storage API: GETs from the database, changes
        # 307 to the leader's API (nothing done on the follower).
        api_a, api_b = a.ping()["api_endpoint"], b.ping()["api_endpoint"]
        self.assertNotEqual(api_a, api_b)
        status, _, body = http("GET", api_b + "/v3/p1/volumes/detail")
        self.assertEqual(status, 200, body)
        self.assertEqual(sorted(v["id"] for v in body["volumes"]), uuids)
        status, _, body = http("GET", "%s/v3/p1/volumes/%s" % (api_b, uuids[1]))
        self.assertEqual((status, body["volume"]["name"]), (200, names[uuids[1]]))
        status, headers, body = http("PUT", "%s/v3/p1/volumes/%s" % (api_b, uuids[1]),
                                     {"volume": {"name": "via-b"}})
        self.assertEqual(status, 307, body)
        self.assertEqual(headers["Location"], "%s/v3/p1/volumes/%s" % (api_a, uuids[1]))
        self.assertIn("cat-a", body["temporaryRedirect"]["message"])
        self.assertEqual(self.json("volume", "show", uuids[1])["volume"]["name"],
                         names[uuids[1]])
        # Sent there, the same request is served by the leader.
        status, _, body = http("PUT", headers["Location"], {"volume": {"name": "via-b"}})
        self.assertEqual((status, body["volume"]["name"]), (200, "via-b"))
        status, _, body = http("DELETE", "%s/v3/p1/volumes/%s" % (api_b, uuids[1]))
        self.assertEqual(status, 307, body)
        if osclients.have_clients():
            # openstackclient (keystoneauth) follows the 307 with the same
            # POST: a create sent to the follower is made by the leader.
            with osclients.Clients(api_b, project="p1") as c:
                v = c.openstack_json("volume", "create", "--type", "gold", "--size", "1",
                                     "via-follower")
            xsm.wait_for("via-follower available", lambda: self.json(
                "volume", "show", v["id"])["volume"]["state"] == "available", timeout=60)

    def test_sigstop_then_kill9_during_creates_and_deletes(self):
        deadline = time.monotonic() + 120
        live, deleted, acked_at = {}, set(), []
        t_kill = None
        leader = "a"
        for i in range(12):
            if i == 2:
                self.pause_leader_until_replaced()
                leader = "b"
            if i == 5:
                # The leader (cat-b now) dies with a create in flight: the
                # agents are paused, so its job is dispatched, not done; the
                # retry with the same request id gets the volume the next
                # leader (cat-a again, fenced before) finishes.
                for agent in self.agents.values():
                    agent.proc.send_signal(signal.SIGSTOP)
                env = xsm.clean_env(XENSM_ADMIN_ENDPOINT=self.cats[leader].endpoint)
                inflight = subprocess.Popen(
                    [xsm.MANAGE, "volume", "create", "--flavor", "gold", "--size", "1G",
                     "--name", "v5", "--request-id", "req-5"], stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
                self.addCleanup(lambda: inflight.poll() is None and inflight.kill())
                xsm.wait_for("v5 in the journal", lambda: any(
                    v["name"] == "v5" for v in self.json("volume", "list")["volumes"]))
                t_kill = time.monotonic()
                self.cats[leader].proc.kill()   # the leader, mid-stream
                self.cats[leader].proc.wait()
                for agent in self.agents.values():
                    agent.proc.send_signal(signal.SIGCONT)
                leader = "a"
            v = self.until_ok(deadline, "volume", "create", "--flavor", "gold", "--size",
                              "1G", "--name", "v%d" % i, "--request-id", "req-%d" % i)
            self.assertEqual(v["volume"]["state"], "available", json.dumps(v))
            live[v["volume"]["uuid"]] = v["volume"]
            acked_at.append(time.monotonic())
            if i % 3 == 2:
                uuid = sorted(live)[0]
                self.until_ok(deadline, "volume", "delete", uuid)
                del live[uuid]
                deleted.add(uuid)
        first_after = min(t for t in acked_at if t > t_kill) - t_kill
        self.assertRegex(self.cats["a"].log(), r"[1-9]\d* unfinished job\(s\) of the journal "
                         "resumed")
        info = self.cats["a"].ping()
        self.assertEqual(info["role"], "leader")
        self.assertEqual(info["leader"]["generation"], 3)
        self.assertNotIn("ghost", [v["name"] for v in
                                   self.json("volume", "list", "--all")["volumes"]])
        # The agents found the new leader by themselves.
        hosts = xsm.wait_for("both hosts up on the new leader", lambda: [
            h for h in self.json("host", "list")["hosts"] if h["state"] == "up"]
            if len([h for h in self.json("host", "list")["hosts"]
                    if h["state"] == "up"]) == 2 else None, timeout=15)
        self.assertEqual(len(hosts), 2)
        for agent in self.agents.values():
            log = agent.log()
            self.assertIn("the connection dropped", log)      # not silence_ms: 10 s
            self.assertIn("registered host", log.split("trying this one")[-1])
        # Every acknowledged volume exactly once, with exactly its VDI;
        # the deleted ones gone.
        vols = {v["uuid"]: v for v in self.json("volume", "list", "--all")["volumes"]}
        names = [v["name"] for v in vols.values() if v["state"] != "deleted"]
        self.assertEqual(len(names), len(set(names)), names)
        tagged = {}
        for pool in self.sim.dump()["pools"] if not isinstance(self.sim.dump(), str) \
                else json.loads(self.sim.dump())["pools"]:
            for vdi in pool["VDIs"]:
                tag = vdi.get("other_config", {}).get("xensm-volume")
                if tag:
                    tagged.setdefault(tag, []).append(vdi["uuid"])
        for uuid, v in live.items():
            self.assertEqual(vols[uuid]["state"], "available", vols[uuid])
            self.assertEqual(tagged.get(uuid), [vols[uuid]["vdi_uuid"]], uuid)
        for uuid in deleted:
            self.assertEqual(vols[uuid]["state"], "deleted")
            self.assertNotIn(uuid, tagged)
        self.assertEqual(sorted(tagged), sorted(live))
        print("kill -9 to the next acknowledged create: %.2f s" % first_after)
        self.assertLess(first_after, 10.0)


if __name__ == "__main__":
    if xsm.TEST_DB != "pg":
        print("test_ha: PostgreSQL only (XENSM_TEST_DB=pg); skipped")
        sys.exit(0)
    unittest.main(verbosity=2)
