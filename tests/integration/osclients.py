"""The real OpenStack clients (Debian 12's openstack, cinder and openstacksdk)
against one Block Storage endpoint in noauth mode, with nothing of the user's
leaking in: every run gets a fresh HOME and XDG dirs, a PATH of /usr/bin:/bin
and no OS_*, CINDER_* or proxy variables, so no clouds.yaml, no
~/.config/openstack and no cached tokens are read.

The recipes are those of shared/openstack/block-storage-api.md section 3.1:
  cinder:    --os-auth-type noauth --os-user-id U --os-project-id P
             --os-endpoint <root>/v3            (project-less URLs, 3.67)
  openstack: --os-auth-type none --os-endpoint <root>/v3/<P>
  SDK:       openstack.connect(auth_type="none", auth={"endpoint": EP},
                               block_storage_endpoint_override=EP)

The clients run under Debian's interpreter (/usr/bin/python3), never the one
first on PATH. Output is parsed: openstack with -f json, cinder's tables,
the SDK's results printed as JSON by the snippet.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

DEBIAN_PYTHON = "/usr/bin/python3"
CLIENT_TIMEOUT = 180


class ClientError(Exception):
    def __init__(self, argv, result):
        super().__init__("%s exited %d\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(argv), result.returncode, result.stdout, result.stderr))
        self.result = result


def have_clients():
    """True when the three clients are installed (scripts/deps installs them)."""
    return all(os.path.exists(p) for p in ("/usr/bin/cinder", "/usr/bin/openstack",
                                           "/usr/lib/python3/dist-packages/openstack"))


def parse_table(text):
    """cinder's PrettyTable output as a list of dicts (header row as keys)."""
    rows = []
    header = None
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
        else:
            rows.append(dict(zip(header, cells)))
    return rows


# The AddressSanitizer pass (scripts/test) sets XENSM_TEST_CLIENTS=off: there
# the clients' own Python (most of these tests' time) proves nothing about our
# C, and the raw-HTTP tests beside the marked ones drive the same routes.
CLIENTS_OFF = os.environ.get("XENSM_TEST_CLIENTS") == "off"


def real_clients(test):
    """Marks a test (or class) that runs the real clients: skipped when
    XENSM_TEST_CLIENTS=off."""
    return unittest.skipIf(CLIENTS_OFF, "XENSM_TEST_CLIENTS=off (the raw-HTTP tests cover "
                           "these routes)")(test)


class Clients:
    """The three clients pointed at root (e.g. "http://127.0.0.1:8776")."""

    def __init__(self, root, project="proj1", user="alice", cacert=None):
        self.root = root.rstrip("/")
        self.project = project
        self.user = user
        self.cacert = cacert
        self.home = tempfile.mkdtemp(prefix="xs-osclients-")

    def close(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def env(self):
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": self.home,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "XDG_CACHE_HOME": os.path.join(self.home, ".cache"),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }

    def run(self, argv, check=True):
        result = subprocess.run(argv, env=self.env(), capture_output=True, text=True,
                                timeout=CLIENT_TIMEOUT, stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise ClientError(argv, result)
        return result

    # -- cinder -------------------------------------------------------------
    def cinder_argv(self, args, project_in_url=False):
        endpoint = "%s/v3/%s" % (self.root, self.project) if project_in_url \
            else "%s/v3" % self.root
        argv = ["/usr/bin/cinder", "--os-auth-type", "noauth", "--os-user-id", self.user,
                "--os-project-id", self.project, "--os-endpoint", endpoint]
        if self.cacert:
            argv += ["--os-cacert", self.cacert]
        return argv + list(args)

    def cinder(self, *args, project_in_url=False, check=True):
        return self.run(self.cinder_argv(args, project_in_url), check=check)

    def cinder_table(self, *args, project_in_url=False):
        return parse_table(self.cinder(*args, project_in_url=project_in_url).stdout)

    # -- openstack ----------------------------------------------------------
    def openstack_argv(self, args):
        argv = ["/usr/bin/openstack", "--os-auth-type", "none", "--os-endpoint",
                "%s/v3/%s" % (self.root, self.project)]
        if self.cacert:
            argv += ["--os-cacert", self.cacert]
        return argv + list(args)

    def openstack(self, *args, check=True):
        return self.run(self.openstack_argv(args), check=check)

    def openstack_json(self, *args):
        return json.loads(self.openstack(*args, "-f", "json").stdout)

    # -- openstacksdk -------------------------------------------------------
    def sdk(self, code):
        """Runs code with `conn` connected and `out` (a dict printed as JSON
        at the end); returns out."""
        endpoint = "%s/v3/%s" % (self.root, self.project)
        preamble = (
            "import json, openstack\n"
            "conn = openstack.connect(auth_type='none', auth={'endpoint': %r},\n"
            "                         block_storage_endpoint_override=%r%s)\n"
            "out = {}\n" % (endpoint, endpoint,
                            ", cacert=%r" % self.cacert if self.cacert else ""))
        script = preamble + code + "\nprint('XS-SDK-OUT ' + json.dumps(out))\n"
        result = self.run([DEBIAN_PYTHON, "-c", script])
        for line in result.stdout.splitlines():
            if line.startswith("XS-SDK-OUT "):
                return json.loads(line[len("XS-SDK-OUT "):])
        raise ClientError(["sdk"], result)
