# Time from exec to the demo's "Demo API key:" line (printed right after READY) and VmRSS then; 5 runs.
# Usage: /usr/bin/python3 bench/startup.py path/to/openalgo-appliance
import subprocess, time, os, sys, tempfile, signal
binary = sys.argv[1]
res = []
for i in range(5):
    d = tempfile.mkdtemp()
    env = dict(os.environ, Appliance__Listen__Https="127.0.0.1:28443", Appliance__Listen__Http="127.0.0.1:28080", Appliance__Listen__Internal="127.0.0.1:28765", Appliance__Listen__Admin="127.0.0.1:29765")
    t0 = time.monotonic()
    p = subprocess.Popen([binary, "demo"], cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout:
        if line.startswith("Demo API key:"):
            t1 = time.monotonic(); break
    rss = [l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS")][0].split()[1]
    p.send_signal(signal.SIGTERM); p.wait(timeout=15)
    res.append(((t1 - t0) * 1000, int(rss) / 1024))
    time.sleep(0.5)
res.sort()
print("runs (ms, MB):", [(round(a), round(b, 1)) for a, b in res])
ms = sorted(a for a, _ in res); mb = sorted(b for _, b in res)
print(f"median time to ready {ms[2]:.0f} ms, median RSS at ready {mb[2]:.1f} MB, load {open('/proc/loadavg').read().strip()}")
