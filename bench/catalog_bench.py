"""bench/catalog_bench.py: section 3 of bench/run, catalog throughput and scale.

Runs the real xensm-catalogd (durable SQLite, synchronous=FULL; and, in the
throughput rounds, the same on a real PostgreSQL 15 with fsync on and
synchronous_commit on, started here by tests/support/pgtest.py) with bench
agents (bench/bench_agents.c: the real xs_agent with an executor that answers
at once) and drives it with the load client (bench/bench_load.c) over the
admin protocol; the baseline is a bare ZeroMQ relay (bench/bench_relay.c)
over the same client -> server -> agent -> server -> client path, with the
same agents and client. The same catalogd is driven through its Block
Storage API too (bench/bench_http.c, libcurl multi, kept-alive connections)
in the same rounds, and a filled catalog answers page after page of its
volumes list. See bench/README.md, "3. Catalog".

Every process is started here, waited for (XENSM_READY_FD, or the server's
own state through the admin protocol) and stopped before returning.
"""

import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

AGENTS = 10
BACKENDS = 100
PROJECT = "bench"               # the API's project (noauth: in the URL)
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(text):
    print("bench/run: " + text, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


class Proc:
    """A program started with XENSM_READY_FD, waited for, stopped on close."""

    def __init__(self, argv, logfile, ready_timeout=60.0):
        rfd, wfd = os.pipe()
        env = dict(os.environ, XENSM_READY_FD=str(wfd))
        self.argv = argv
        self.log = open(logfile, "w", encoding="utf-8")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, pass_fds=(wfd,), env=env)
        os.close(wfd)
        try:
            data = b""
            deadline = self.started + ready_timeout
            while b"READY" not in data:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BenchError("%s: not ready after %.0f s" % (argv[0], ready_timeout))
                readable, _, _ = select.select([rfd], [], [], left)
                if readable:
                    chunk = os.read(rfd, 64)
                    if not chunk:
                        raise BenchError("%s exited before it was ready (status %s), see %s"
                                         % (os.path.basename(argv[0]), self.proc.wait(),
                                            logfile))
                    data += chunk
            self.ready_s = time.monotonic() - self.started
        except BaseException:
            self.close()
            raise
        finally:
            os.close(rfd)

    @property
    def pid(self):
        return self.proc.pid

    def cpu_s(self):
        """user + system CPU seconds of the process (all its threads)."""
        with open("/proc/%d/stat" % self.pid, encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def status_kib(self, key):
        with open("/proc/%d/status" % self.pid, encoding="utf-8") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise BenchError("no %s in /proc/%d/status" % (key, self.pid))

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Stack:
    """A server (catalogd or the relay) with its bench agents, in a temp dir."""

    def __init__(self, build_dir, kind, backends=BACKENDS, heartbeat_ms=1000, fill=0,
                 db_uri=None):
        self.build_dir = build_dir
        self.kind = kind
        self.db_uri = db_uri            # a PostgreSQL database, else an SQLite file
        self.backends = backends
        self.dir = tempfile.mkdtemp(prefix="xensm-bench-%s-" % kind)
        self.endpoint = "ipc://%s/admin.sock" % self.dir
        self.procs = []
        self.server = None
        self.agents = None
        self.fill_s = None
        self.api = None                 # catalogd's Block Storage API endpoint
        try:
            self._start(heartbeat_ms, fill)
        except BaseException:
            self.close()
            raise

    def prog(self, *parts):
        return os.path.join(self.build_dir, *parts)

    def load(self, *args, timeout=600, client="xs-bench-load", endpoint=None):
        argv = [self.prog("bench", client), "--endpoint", endpoint or self.endpoint] + list(args)
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=timeout, check=False)
        if done.returncode != 0:
            raise BenchError("%s %s: %s" % (client, " ".join(argv[3:5]), done.stderr.strip()))
        return done.stdout

    def http(self, *args, timeout=600):
        """xs-bench-http against catalogd's Block Storage API."""
        if not self.api:
            raise BenchError("catalogd reported no api_endpoint in ping")
        return self.load(*args, timeout=timeout, client="xs-bench-http", endpoint=self.api)

    def _start(self, heartbeat_ms, fill):
        d = self.dir
        keys = os.path.join(d, "agents")
        certs = os.path.join(d, "certs")
        os.mkdir(keys)
        os.mkdir(certs)
        subprocess.run([self.prog("bench", "xs-bench-agents"), "--prepare", "--dir", certs,
                        "--enroll", keys, "--agents", str(AGENTS)], check=True)
        cert = os.path.join(d, "server.cert")
        if self.kind == "catalog":
            cfg = os.path.join(d, "catalog.cfg")
            with open(cfg, "w", encoding="utf-8") as f:
                # The Block Storage API on a port the kernel picks (ping
                # tells it; the default would collide between the bench's
                # catalogs), noauth on loopback, no quota: the bench creates
                # more than the default 1,000 volumes per project.
                f.write("[catalog]\nheartbeat_ms = %d\nadmin_batch = 256\n"
                        "api_listen = 127.0.0.1:0\napi_auth = noauth\n"
                        "api_quota_volumes = -1\napi_quota_gigabytes = -1\n" % heartbeat_ms)
            db = self.db_uri or os.path.join(d, "catalog.db")
            if fill:
                out = subprocess.run([self.prog("bench", "xs-bench-fill"), "--db", db,
                                      "--volumes", str(fill), "--backends", str(self.backends),
                                      "--project", PROJECT],
                                     stdout=subprocess.PIPE, text=True, check=True).stdout
                self.fill_s = float(out.split()[0])
                # Out of the page cache, so that start-up reads the disk.
                subprocess.run(["sync"], check=False)
            argv = [self.prog("catalog", "xensm-catalogd"), "--foreground", "-c", cfg,
                    "--db", db, "--admin", self.endpoint, "--agent", "tcp://127.0.0.1:*",
                    "--cert", cert, "--agent-keys", keys]
        else:
            argv = [self.prog("bench", "xs-bench-relay"), "--admin", self.endpoint,
                    "--agent", "tcp://127.0.0.1:*", "--cert", cert, "--agent-keys", keys]
        self.server = Proc(argv, os.path.join(d, self.kind + ".log"))
        self.procs.append(self.server)
        self.startup_ms = self.server.ready_s * 1e3
        self.hwm_ready_kib = self.server.status_kib("VmHWM")
        ping = self.load("ping").split()
        agent_endpoint = ping[0]
        self.api = ping[1] if len(ping) > 1 else None
        if self.kind == "catalog" and not fill:
            self.load("setup", "--backends", str(self.backends))
        self.agents = Proc([self.prog("bench", "xs-bench-agents"), "--catalog", agent_endpoint,
                            "--catalog-key", cert, "--dir", certs, "--agents", str(AGENTS)],
                           os.path.join(d, "agents.log"))
        self.procs.append(self.agents)
        if self.kind == "catalog":
            self.load("wait", "--backends", str(self.backends), "--hosts", str(AGENTS),
                      "--timeout-ms", "120000")
            # The SR stats come with the heartbeat after the attach.
            time.sleep(3 * heartbeat_ms / 1000.0)

    def run(self, count, window, tag, delete=True, api=False):
        """Creates (then deletes) count volumes, over the admin protocol or
        with api through the Block Storage API; per-phase figures + CPU."""
        cpu0 = self.server.cpu_s()
        agents0 = self.agents.cpu_s()
        args = ["run", "--count", str(count), "--window", str(window)]
        args += ["--project", PROJECT] if api else ["--tag", tag]
        if not delete:
            args.append("--no-delete")
        out = self.http(*args) if api else self.load(*args)
        res = {"server_cpu_s": self.server.cpu_s() - cpu0,
               "agents_cpu_s": self.agents.cpu_s() - agents0}
        res.update(_phases(out))
        return res

    def pages(self, limit, count):
        """count GETs of one `limit`-volume page from the middle of the
        project's volumes, one at a time; the "page" phase + CPU."""
        cpu0 = self.server.cpu_s()
        res = _phases(self.http("page", "--project", PROJECT, "--limit", str(limit),
                                "--count", str(count)))
        res["server_cpu_s"] = self.server.cpu_s() - cpu0
        return res

    def close(self):
        for p in reversed(self.procs):
            p.close()
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)


def _phases(out):
    """The load clients' phase lines, by phase."""
    res = {}
    for line in out.splitlines():
        phase, n, failed, seconds, rate, p50, p99, worst = line.split("\t")
        res[phase] = {"n": int(n), "failed": int(failed), "seconds": float(seconds),
                      "rate": float(rate), "p50": float(p50), "p99": float(p99),
                      "max": float(worst)}
    return res


def _median(runs, phase, key):
    return statistics.median(r[phase][key] for r in runs)


def pg_server():
    """A durable PostgreSQL server for the bench, or (None, why not)."""
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))
    try:
        import pgtest
        return pgtest.Server(durable=True), None
    except (ImportError, RuntimeError, OSError) as exn:
        return None, str(exn)


def throughput(build_dir, count, window, rounds):
    """3 catalog: durable creates/s against the relay, interleaved rounds;
    the same catalogd through its Block Storage API ("api"), and on
    PostgreSQL, in the same rounds."""
    cat = relay = pg = server = None
    try:
        cat = Stack(build_dir, "catalog")
        relay = Stack(build_dir, "relay")
        server, pg_why = pg_server()
        if server:
            pg = Stack(build_dir, "catalog", db_uri=server.create_db("bench"))
        # Warm-up: page cache, SQLite statements, connections.
        cat.run(min(count, 1000), window, "warm")
        cat.run(min(count, 1000), window, "warm", api=True)
        relay.run(min(count, 1000), window, "warm")
        if pg:
            pg.run(min(count, 1000), window, "warm")
        runs = {"catalog": [], "relay": [], "api": [], "pg": [], "pg_why": pg_why}
        stacks = [("relay", relay), ("catalog", cat), ("api", cat)] + ([("pg", pg)] if pg else [])
        for r in range(rounds):
            # The admin and HTTP rounds share one catalogd whose placement
            # counts the placements of the last minute (a longer walk for
            # whoever runs second): they take turns at going first.
            order = stacks if r % 2 == 0 else [stacks[0], stacks[2], stacks[1]] + stacks[3:]
            for name, stack in order:
                res = stack.run(count, window, "r%d" % r, api=name == "api")
                runs[name].append(res)
                log("   round %d %-7s creates %7.0f/s p50 %6.2f ms p99 %6.2f ms, deletes %7.0f/s"
                    % (r + 1, name, res["create"]["rate"], res["create"]["p50"],
                       res["create"]["p99"], res["delete"]["rate"]))
        # The same at a quarter of the window, for the latency at lower load.
        low = max(1, window // 4)
        runs["low"] = {"window": low, "catalog": cat.run(min(count, 2000), low, "low"),
                       "relay": relay.run(min(count, 2000), low, "low")}
        return runs
    finally:
        for s in (cat, relay, pg):
            if s:
                s.close()
        if server:
            server.stop()


def placement(build_dir, counts, creates):
    """3 scale: create latency at window 1 with 10 / 100 / 1,000 backends."""
    out = {}
    for n in counts:
        stack = None
        try:
            stack = Stack(build_dir, "catalog", backends=n)
            stack.run(100, 1, "warm")
            out[n] = stack.run(creates, 1, "scale")
            log("   %d backends: create p50 %.2f ms p99 %.2f ms, catalogd CPU %.0f us/create"
                % (n, out[n]["create"]["p50"], out[n]["create"]["p99"],
                   out[n]["server_cpu_s"] / (2 * creates) * 1e6))
        finally:
            if stack:
                stack.close()
    return out


def startup(build_dir, volumes, count, window, pages, limit=1000):
    """3 scale: catalogd start-up and RSS with `volumes` volumes in its db
    (all of project PROJECT); then, 3 api, `pages` GETs of one page."""
    stack = None
    try:
        stack = Stack(build_dir, "catalog", fill=volumes)
        hwm_attached = stack.server.status_kib("VmHWM")
        res = stack.run(count, window, "load")
        out = {"fill_s": stack.fill_s, "startup_ms": stack.startup_ms,
               "hwm_ready": stack.hwm_ready_kib / 1024.0, "hwm_attached": hwm_attached / 1024.0,
               "hwm_load": stack.server.status_kib("VmHWM") / 1024.0,
               "rss_load": stack.server.status_kib("VmRSS") / 1024.0, "run": res}
        log("3. api: %d GETs of one %d-volume page out of %d volumes" % (pages, limit, volumes))
        out["pages"] = stack.pages(limit, pages)
        out["hwm_pages"] = stack.server.status_kib("VmHWM") / 1024.0
        log("   page p50 %.1f ms p99 %.1f ms" % (out["pages"]["page"]["p50"],
                                                 out["pages"]["page"]["p99"]))
        return out
    finally:
        if stack:
            stack.close()


def api_rows(api_runs, cat_runs, count, window, rounds):
    """3 api: the Block Storage API's creates against the admin path's, same
    catalogd, same window, same rounds."""
    api_rate = _median(api_runs, "create", "rate")
    cat_rate = _median(cat_runs, "create", "rate")
    share = api_rate / cat_rate
    failed = sum(r[p]["failed"] for r in api_runs for p in ("create", "delete"))

    def cpu(runs):
        return statistics.median(r["server_cpu_s"] / (2 * count) for r in runs) * 1e6

    return [
        ("3 api", "durable creates/s through the Block Storage API (POST /v3/{project}/volumes, "
         "202 once committed; libcurl multi, %d kept-alive connections = window %d), same "
         "catalogd, median of %d rounds of %d interleaved with the admin rounds"
         % (window, window, rounds, count),
         "%.0f/s" % api_rate, "admin protocol %.0f/s" % cat_rate, "%.0f%%" % (share * 100),
         ">=50%% of admin: %s" % ("met" if share >= 0.5 else "MISSED")),
        ("3 api", "HTTP create latency p50 / p99 (window %d); deletes/s (DELETE, 202 once the "
         "VDI is gone); failed; catalogd CPU per operation" % window,
         "%.1f / %.1f ms; %.0f/s; %d failed; %.0f us"
         % (_median(api_runs, "create", "p50"), _median(api_runs, "create", "p99"),
            _median(api_runs, "delete", "rate"), failed, cpu(api_runs)),
         "admin %.1f / %.1f ms; %.0f/s; %.0f us"
         % (_median(cat_runs, "create", "p50"), _median(cat_runs, "create", "p99"),
            _median(cat_runs, "delete", "rate"), cpu(cat_runs)), "-", "-"),
    ]


def page_row(st, volumes):
    """3 api: one 1,000-volume page out of `volumes`, p50 / p99."""
    page = st["pages"]["page"]
    return ("3 api", "list one page: GET /v3/{project}/volumes/detail?limit=1000&marker=<the "
            "middle>, %s volumes in the project, p50 / p99 (nearest rank) / max of %d GETs one at "
            "a time; "
            "catalogd CPU per GET; its peak RSS after"
            % ("{:,}".format(volumes), page["n"]),
            "%.1f / %.1f / %.1f ms; %.1f ms CPU; %.1f MiB"
            % (page["p50"], page["p99"], page["max"],
               st["pages"]["server_cpu_s"] / page["n"] * 1e3, st["hwm_pages"]),
            "-", "-", "p99 <20 ms: %s" % ("met" if page["p99"] < 20 else "MISSED"))


def rows(build_dir, count=5000, window=64, rounds=3, scale_creates=300, volumes=100000,
         pages=200):
    """The section's table rows, or "not measured" rows naming what failed."""
    needed = [os.path.join(build_dir, "catalog", "xensm-catalogd")] + [
        os.path.join(build_dir, "bench", p)
        for p in ("xs-bench-load", "xs-bench-agents", "xs-bench-relay", "xs-bench-fill",
              "xs-bench-http")]
    missing = [p for p in needed if not os.access(p, os.X_OK)]
    if missing:
        why = "not measured: %s not built" % ", ".join(os.path.basename(p) for p in missing)
        return [("3 catalog", "durable creates/s", why, "-", "-", ">=2,000/s, >=25% of relay")]
    out = []
    log("3. catalog throughput: %d backends, %d agents, %d creates then deletes, window %d, "
        "%d interleaved rounds" % (BACKENDS, AGENTS, count, window, rounds))
    runs = throughput(build_dir, count, window, rounds)
    cat_rate = _median(runs["catalog"], "create", "rate")
    relay_rate = _median(runs["relay"], "create", "rate")
    share = cat_rate / relay_rate
    p50 = _median(runs["catalog"], "create", "p50")
    p99 = _median(runs["catalog"], "create", "p99")
    low = runs.pop("low")
    pg_runs, pg_why = runs.pop("pg"), runs.pop("pg_why")
    api_runs = runs.pop("api")
    failed = sum(r[p]["failed"] for k in runs for r in runs[k] for p in ("create", "delete"))
    cpu = statistics.median(r["server_cpu_s"] / (2 * count) for r in runs["catalog"]) * 1e6
    agents_cpu = statistics.median(r["agents_cpu_s"] / (2 * count)
                                   for r in runs["catalog"]) * 1e6
    relay_agents_cpu = statistics.median(r["agents_cpu_s"] / (2 * count)
                                         for r in runs["relay"]) * 1e6
    relay_cpu = statistics.median(r["server_cpu_s"] / (2 * count) for r in runs["relay"]) * 1e6
    out.append(("3 catalog", "durable creates/s, %d backends, %d bench agents, window %d "
                "(median of %d rounds of %d)" % (BACKENDS, AGENTS, window, rounds, count),
                "%.0f/s" % cat_rate, "bare ZeroMQ relay %.0f/s" % relay_rate,
                "%.0f%%" % (share * 100),
                ">=2,000/s: %s, >=25%% of relay: %s" % ("met" if cat_rate >= 2000 else "MISSED",
                                                      "met" if share >= 0.25 else "MISSED")))
    if pg_runs:
        pg_rate = _median(pg_runs, "create", "rate")
        pg_failed = sum(r[p]["failed"] for r in pg_runs for p in ("create", "delete"))
        out.append(("3 catalog", "durable creates/s on PostgreSQL 15 (local, unix socket, "
                    "fsync on; same agents, load and rounds); p50 / p99; deletes/s; failed",
                    "%.0f/s; %.1f / %.1f ms; %.0f/s; %d failed"
                    % (pg_rate, _median(pg_runs, "create", "p50"),
                       _median(pg_runs, "create", "p99"),
                       _median(pg_runs, "delete", "rate"), pg_failed),
                    "SQLite %.0f/s" % cat_rate, "%.0f%%" % (pg_rate / cat_rate * 100),
                    ">=1,500/s: %s" % ("met" if pg_rate >= 1500 else "MISSED")))
    else:
        out.append(("3 catalog", "durable creates/s on PostgreSQL 15",
                    "not measured: %s" % pg_why, "-", "-", ">=1,500/s"))
    out.append(("3 catalog", "create latency p50 / p99 (window %d)" % window,
                "%.1f / %.1f ms" % (p50, p99),
                "relay %.1f / %.1f ms" % (_median(runs["relay"], "create", "p50"),
                                           _median(runs["relay"], "create", "p99")),
                "-", "p99 <=25 ms: %s" % ("met" if p99 <= 25 else "MISSED")))
    out.append(("3 catalog", "create latency p50 / p99 at window %d (one round of %d), and "
                "creates/s" % (low["window"], low["catalog"]["create"]["n"]),
                "%.1f / %.1f ms, %.0f/s" % (low["catalog"]["create"]["p50"],
                                            low["catalog"]["create"]["p99"],
                                            low["catalog"]["create"]["rate"]),
                "relay %.1f / %.1f ms, %.0f/s" % (low["relay"]["create"]["p50"],
                                                  low["relay"]["create"]["p99"],
                                                  low["relay"]["create"]["rate"]), "-", "-"))
    out.append(("3 catalog", "durable deletes/s; failed requests", "%.0f/s; %d failed"
                % (_median(runs["catalog"], "delete", "rate"), failed),
                "relay %.0f/s" % _median(runs["relay"], "delete", "rate"), "-", "-"))
    out.append(("3 catalog", "CPU per operation (create or delete), median",
                "catalogd %.0f us, its agents %.0f us" % (cpu, agents_cpu),
                "relay %.0f us, its agents %.0f us" % (relay_cpu, relay_agents_cpu), "-", "-"))
    out += api_rows(api_runs, runs["catalog"], count, window, rounds)

    counts = (10, 100, 1000)
    log("3. scale: create latency at window 1 with %s backends (%d creates each)"
        % (", ".join(str(n) for n in counts), scale_creates))
    scale = placement(build_dir, counts, scale_creates)
    p50s = [scale[n]["create"]["p50"] for n in counts]
    flat = max(p50s) <= 1.5 * min(p50s)
    out.append(("3 scale", "create latency at window 1 (placement + 2 group commits + agent), "
                "p50 / p99, at %s backends" % " / ".join("{:,}".format(n) for n in counts),
                " ; ".join("%.2f / %.2f ms" % (scale[n]["create"]["p50"], scale[n]["create"]["p99"])
                           for n in counts), "-",
                "p50 %.2fx from 10 to 1,000" % (p50s[-1] / p50s[0]), "flat: %s" % ("met" if flat else "MISSED")))
    out.append(("3 scale", "catalogd CPU per operation at window 1, at %s backends"
                % " / ".join("{:,}".format(n) for n in counts),
                " ; ".join("%.0f us" % (scale[n]["server_cpu_s"] / (2 * scale_creates) * 1e6)
                           for n in counts), "-", "-", "-"))

    log("3. scale: catalogd start-up and RSS with %d volumes" % volumes)
    st = startup(build_dir, volumes, min(count, 2000), window, pages)
    out.append(("3 scale", "catalogd start-up, exec to READY, %s volumes in the db "
                "(filled in %.0f s)" % ("{:,}".format(volumes), st["fill_s"]),
                "%.0f ms" % st["startup_ms"], "-", "-", "-"))
    hwm = max(st["hwm_ready"], st["hwm_attached"], st["hwm_load"])
    out.append(("3 scale", "catalogd peak RSS (VmHWM) with %s volumes: at READY / agents "
                "attached / after %d creates+deletes" % ("{:,}".format(volumes),
                                                         st["run"]["create"]["n"]),
                "%.1f / %.1f / %.1f MiB" % (st["hwm_ready"], st["hwm_attached"], st["hwm_load"]),
                "-", "-", "RSS <=64 MiB: %s" % ("met" if hwm <= 64 else "MISSED")))
    out.append(page_row(st, volumes))
    return out
