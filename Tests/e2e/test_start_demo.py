"""End to end: `scripts/start.sh` as a newcomer runs it, without DATABASE_URL: the demo shop is
staged, /pg health shows its incidents, the build is quiet, and the demo's sessions and the
throwaway PostgreSQL are gone when the console ends (also when start.sh is terminated)."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START = ROOT / "scripts" / "start.sh"
# The demo's own PostgreSQL port: ten above the test PostgreSQL's unless given.
PORT = int(os.environ.get("TRIAGE_TEST_DEMO_PG_PORT") or int(os.environ.get("TRIAGE_TEST_PG_PORT", "55432")) + 10)

pytestmark = pytest.mark.skipif(not os.environ.get("TRIAGE_BINARY"), reason="TRIAGE_BINARY is not set (run via scripts/test.sh)")


def env_without_database():
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.pop("TRIAGE_DEMO", None)
    env["TRIAGE_PG_PORT"] = str(PORT)
    return env


def listening(port):
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def demo_helpers():
    """Processes running scripts/demo/sessions.py for our port."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = (Path("/proc", pid, "cmdline").read_bytes().split(b"\0"))
        except OSError:
            continue
        if any(c.endswith(b"sessions.py") for c in cmd) and str(PORT).encode() in cmd:
            found.append(int(pid))
    return found


def wait_gone(timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline and (demo_helpers() or listening(PORT)):
        time.sleep(0.1)
    return demo_helpers(), listening(PORT)


@pytest.fixture(autouse=True)
def free_port():
    assert not listening(PORT), "port %d is taken; set TRIAGE_TEST_DEMO_PG_PORT" % PORT
    yield


def test_health_shows_the_staged_incidents_and_everything_stops_with_the_console():
    started = time.time()
    proc = subprocess.run(["bash", str(START)], input="/pg health\n/pg locks\n/pg idle-tx\n", capture_output=True, text=True,
                          env=env_without_database(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out, err = proc.stdout, proc.stderr
    # The banner: what is staged, and the first three commands.
    assert "Try first:  /pg health    /pg locks    /pg idle-tx" in err, err
    assert "20251031_add_analytics_table" in err
    # No build chatter or linker warnings on a normal start.
    for chatter in ["Compiling", "Build complete", "Building for", "warning:", "Fetching", "[0/"]:
        assert chatter not in err and chatter not in out, chatter
    # /pg health lights up with each staged incident.
    health = out.split("[WARN] The blocking tree")[0] if "[WARN] The blocking tree" in out else out
    assert health.startswith("[CRIT] Database health"), out[:500]
    expected = {
        "failed or unfinished Prisma migrations": "20251031_add_analytics_table",
        "connections used": "of 50 max_connections",
        "sessions waiting on locks": "blocked by pids",
        "worst dead-tuple share": "public.cart_events: 14000 dead",
        "invalid indexes": "analytics_events_session_id_key",
        "NOT VALID constraints": "fk_products_category",
        "statements averaging > 1 s": "worst mean",
    }
    rows = {line.split("  ")[0]: line for line in health.splitlines()}
    for check, detail in expected.items():
        assert check in rows, "missing %s in:\n%s" % (check, health)
        row = rows[check]
        assert ("warning" in row or "CRITICAL" in row) and detail in row, row
    # The lock chain: the billing job at the root, two checkouts waiting in a chain.
    assert "shop-billing" in out and out.count("shop-checkout") >= 2, out
    assert "shop-worker" in out          # /pg idle-tx
    # The demo's sessions and the cluster stop with the console.
    helpers, up = wait_gone()
    assert helpers == [] and not up, (helpers, up)
    print("start.sh to the end of the piped session: %.1f s" % (time.time() - started))


def test_terminating_start_sh_stops_the_demo_sessions():
    proc = subprocess.Popen(["bash", str(START)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env_without_database())
    try:
        deadline = time.time() + 600
        while time.time() < deadline and not demo_helpers():
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            time.sleep(0.2)
        assert demo_helpers(), "the demo helper never started"
        # The console is waiting on stdin; the newcomer closes the terminal.
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    helpers, up = wait_gone()
    assert helpers == [] and not up, (helpers, up)


def test_the_helper_ends_when_its_parent_is_killed():
    """Even when start.sh is SIGKILLed (no trap runs), the sessions do not outlive it."""
    url = os.environ.get("TRIAGE_TEST_PG_URL")
    if not url:
        pytest.skip("TRIAGE_TEST_PG_URL is not set")
    u = urllib.parse.urlparse(url)
    host, port, user = u.hostname or "127.0.0.1", u.port or 5432, u.username or "postgres"
    db = "demo_parent_%d" % os.getpid()
    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    subprocess.run(psql + [url, "-c", "CREATE DATABASE %s" % db], check=True, capture_output=True)
    dburl = urllib.parse.urlunparse(u._replace(path="/" + db))
    try:
        subprocess.run(psql + [dburl, "-f", str(ROOT / "scripts/demo/shop.sql")], capture_output=True, check=True)
        parent = subprocess.Popen(["bash", "-c", '"$0" "$1" %s %d %s %s --idle 3 & wait' % (host, port, user, db),
                                   sys.executable, str(ROOT / "scripts/demo/sessions.py")],
                                  stdout=subprocess.PIPE, text=True)
        assert parent.stdout.readline().strip() == "ready"
        count = lambda: subprocess.run(psql + ["-tA", dburl, "-c", "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'shop-%'"],
                                       capture_output=True, text=True, check=True).stdout.strip()
        assert count() == "8"    # 3 idle, worker, billing, two checkouts, reports
        parent.kill()
        parent.wait()
        deadline = time.time() + 10
        while time.time() < deadline and count() != "0":
            time.sleep(0.1)
        assert count() == "0"
    finally:
        subprocess.run(psql + [url, "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % db], capture_output=True)
