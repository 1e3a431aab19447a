"""Server CPU per /metrics scrape: python3 bench/observability/scrape.py BINARY (docs/benchmarks.md, Observability)."""
import pathlib; pathlib.Path("/tmp/obs-scrape").mkdir(exist_ok=True)
import http.client, os, subprocess, sys, time
binary = sys.argv[1]
env = dict(os.environ)
env.update({
 "Appliance__Listen__Https": "127.0.0.1:28444", "Appliance__Listen__Http": "", "Appliance__Listen__Internal": "127.0.0.1:28766",
 "Appliance__Listen__Admin": "127.0.0.1:29766", "Appliance__MarketData__Source": "Simulated", "Appliance__Auth__Mode": "StaticKeys", "Appliance__Tls__Mode": "SelfSigned",
 "Appliance__StateDirectory": "/tmp/obs-scrape/state", "Appliance__LogsDirectory": "/tmp/obs-scrape/logs",
})
p = subprocess.Popen([binary, "run"], env=env, cwd="/tmp/obs-scrape", stdout=open("/tmp/obs-scrape/server.log","w"), stderr=subprocess.STDOUT)
def cpu():
    total = 0
    for t in os.listdir(f"/proc/{p.pid}/task"):
        try: total += int(open(f"/proc/{p.pid}/task/{t}/schedstat").read().split()[0])
        except OSError: pass
    return total / 1e9
try:
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", 29766, timeout=5); c.request("GET", "/healthz"); c.getresponse().read(); break
        except OSError: time.sleep(0.2)
    time.sleep(3)
    n, gap = 100, 0.35
    c0 = cpu(); time.sleep(n * gap); idle = cpu() - c0
    c = http.client.HTTPConnection("127.0.0.1", 29766, timeout=5)
    c0 = cpu(); size = 0
    for _ in range(n):
        c.request("GET", "/metrics"); body = c.getresponse().read(); size = len(body); time.sleep(gap)
    busy = cpu() - c0
    print(f"otel scrapes={n} bytes={size} series_lines={sum(1 for l in body.decode().splitlines() if l and not l.startswith('#'))} cpu_per_scrape_ms={(busy - idle) / n * 1000:.2f} idle_cpu_s={idle:.3f} busy_cpu_s={busy:.3f}")
finally:
    p.terminate(); p.wait(10)
