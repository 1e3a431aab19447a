#!/usr/bin/python3
"""Argon2id verification time: the system libargon2 (what the appliance P/Invokes) vs argon2-cffi.

usage: /usr/bin/python3 bench/auth/argon2_verify.py [--runs 10] [--time-cost 3] [--memory-cost 65536] [--parallelism 4]

Makes one hash with Debian's python3-argon2 (argon2-cffi) at the given parameters (default: the
argon2-cffi 23 defaults OpenAlgo gets from pip: t=3, m=64 MiB, p=4 — Debian 12 ships argon2-cffi
21.1, whose own defaults differ, so they are passed explicitly), then times --runs verifications
each of
  * libargon2: argon2id_verify(encoded, pwd, len) on /usr/lib/x86_64-linux-gnu/libargon2.so.1 via
    ctypes, the exact call Argon2Verifier.cs makes (ctypes overhead is microseconds);
  * argon2-cffi: PasswordHasher().verify(hash, pwd), what OpenAlgo's verify_api_key calls;
  * a mismatch through libargon2 (OpenAlgo checks every api_keys row, so a wrong row costs the same);
runs alternate (lib, cffi, lib, ...) so drift hits both equally. Prints each run and the medians
(ms), wall and process CPU time, plus the 1-minute load average before and after.
"""
import argparse
import ctypes
import os
import statistics
import time

from argon2 import PasswordHasher

LIB = "/usr/lib/x86_64-linux-gnu/libargon2.so.1"


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--time-cost", type=int, default=3)
    ap.add_argument("--memory-cost", type=int, default=65536)
    ap.add_argument("--parallelism", type=int, default=4)
    a = ap.parse_args()

    lib = ctypes.CDLL(LIB)
    lib.argon2id_verify.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t]
    lib.argon2id_verify.restype = ctypes.c_int

    ph = PasswordHasher(time_cost=a.time_cost, memory_cost=a.memory_cost, parallelism=a.parallelism)
    secret = "b" * 64 + "pepper-" + "p" * 57  # a 64-hex-char key + a 64-char pepper, as OpenAlgo hashes it
    encoded = ph.hash(secret)
    print(f"hash: {encoded[:40]}... (argon2-cffi {__import__('argon2').__version__}, nproc {os.cpu_count()})")
    pwd = secret.encode()
    wrong = ("c" * 64 + secret[64:]).encode()

    def lib_verify(p):
        buf = ctypes.create_string_buffer(p, len(p))
        return lib.argon2id_verify(encoded.encode(), buf, len(p))

    def timed(fn):
        w0, c0 = time.perf_counter(), time.process_time()
        r = fn()
        return (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000, r

    assert lib_verify(pwd) == 0, "libargon2 refused the right key"
    assert lib_verify(wrong) == -35, "libargon2 accepted a wrong key"
    assert ph.verify(encoded, secret)

    print(f"load average before: {loadavg()}")
    rows = {"libargon2 argon2id_verify": [], "argon2-cffi PasswordHasher.verify": [], "libargon2 mismatch": []}
    for i in range(a.runs):
        for name, fn in (("libargon2 argon2id_verify", lambda: lib_verify(pwd)),
                         ("argon2-cffi PasswordHasher.verify", lambda: ph.verify(encoded, secret)),
                         ("libargon2 mismatch", lambda: lib_verify(wrong))):
            wall, cpu, _ = timed(fn)
            rows[name].append((wall, cpu))
            print(f"run {i + 1:2d} {name:36s} {wall:7.1f} ms wall {cpu:7.1f} ms CPU")
    print(f"load average after: {loadavg()}")
    print()
    print(f"| verification (t={a.time_cost}, m={a.memory_cost} KiB, p={a.parallelism}), {a.runs} runs | median ms | min ms | max ms | median CPU ms |")
    print("|---|---:|---:|---:|---:|")
    for name, v in rows.items():
        walls = [w for w, _ in v]
        print(f"| {name} | {statistics.median(walls):.1f} | {min(walls):.1f} | {max(walls):.1f} | {statistics.median([c for _, c in v]):.1f} |")


if __name__ == "__main__":
    main()
