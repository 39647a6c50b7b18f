#!/usr/bin/env bash
# Foundation figures (issue 2), printed, never asserted:
#  - `/pg connections` through `triage console` vs `psql -c` running the same SQL against the
#    same local server: median wall time of each (whole process, start to exit) and the ratio;
#  - 200 `/pg connections` in one console session vs the same SQL 200 times in one `psql -f`;
#  - time from start to first reply, and peak RSS, of `triage console`.
# usage: scripts/bench-foundation.sh [RUNS]   (uses DATABASE_URL, else a throwaway PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
RUNS=${1:-30}
swift build -c release --product triage --static-swift-stdlib --scratch-path .build-release >/dev/null
if [ -z "${DATABASE_URL:-}" ]; then
  DIR=$(mktemp -d /tmp/triage-bench.XXXXXX); chmod 755 "$DIR"
  trap 'scripts/pg.sh down "$DIR" >/dev/null 2>&1 || true' EXIT
  export DATABASE_URL=$(scripts/pg.sh up "$DIR" "${TRIAGE_BENCH_PG_PORT:-55710}")
fi
# The exact SQL of /pg connections' three steps, from commands/01-connections.yaml.
SQL=$(python3 - <<'PY'
import yaml
doc = yaml.safe_load(open("commands/01-connections.yaml"))
cmd = next(c for c in doc["commands"] if c["name"] == "pg connections")
print(";\n".join(s["sql"].strip() for s in cmd["steps"]) + ";")
PY
)
export SQL RUNS
python3 - <<'PY'
import os, resource, statistics, subprocess, time
url, runs, sql = os.environ["DATABASE_URL"], int(os.environ["RUNS"]), os.environ["SQL"]
tl = "/tmp/triage-bench-timeline.sqlite"
def timed(argv, stdin=None):
    t = time.perf_counter()
    subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, text=True)
    return time.perf_counter() - t
triage = ["./.build-release/release/triage", "console", "--timeline", tl]
psql = ["psql", url, "-X", "-q", "-c", sql]
for _ in range(3):  # warm caches
    timed(triage, "/pg connections\n"); timed(psql)
t_triage = [timed(triage, "/pg connections\n") for _ in range(runs)]
t_psql = [timed(psql) for _ in range(runs)]
mt, mp = statistics.median(t_triage), statistics.median(t_psql)
print(f"/pg connections, whole process, median of {runs}: triage console {mt*1000:.1f} ms, psql -c {mp*1000:.1f} ms, ratio triage/psql {mt/mp:.2f}")

# In one session: 200 /pg connections through one console vs the same SQL 200 times in one psql -f.
import tempfile
with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
    f.write((sql + "\n") * 200)
    script_path = f.name
in_triage = [timed(triage, "/pg connections\n" * 200) for _ in range(max(3, runs // 6))]
in_psql = [timed(["psql", url, "-X", "-q", "-o", "/dev/null", "-f", script_path]) for _ in range(max(3, runs // 6))]
os.remove(script_path)
st, sp = statistics.median(in_triage), statistics.median(in_psql)
print(f"200 /pg connections in one session, median of {len(in_triage)}: triage console {st*1000:.0f} ms, psql -f {sp*1000:.0f} ms, ratio triage/psql {st/sp:.2f}")

def first_reply(line):
    p = subprocess.Popen(triage, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    t = time.perf_counter()
    p.stdin.write(line + "\n"); p.stdin.flush()
    p.stdout.readline()
    dt = time.perf_counter() - t
    p.stdin.close(); p.wait()
    return dt
for line in ["/ping", "/pg connections"]:
    ts = [first_reply(line) for _ in range(runs)]
    print(f"start to first reply ({line}), median of {runs}: {statistics.median(ts)*1000:.1f} ms")
before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
script = "\n".join(["/pg connections", "/pg idle", "/pg active", "/pg slow", "/pg size", "/pg bloat", "/pg vacuum-stats", "/pg indexes", "/help"] * 20) + "\n"
p = subprocess.run(triage, input=script, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"peak RSS of triage console over 180 commands: {rss/1024:.1f} MB (largest child so far; earlier children were the same binary)")
os.remove(tl) if os.path.exists(tl) else None
PY
