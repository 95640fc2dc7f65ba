#!/usr/bin/env python3
"""A snapshot of the CPU time used so far by grantd, its PostgreSQL cluster and the load
generator, so that bench/run can report CPU per request: on a shared machine the rate
drifts with everyone else's load, the CPU a request costs much less.

  cpu.py --server PID --postmaster PID --shell PID > snapshot.json
  cpu.py --diff before.json after.json --requests N > per_request.json

Server (grantd, or moto_server): utime + stime of the process (/proc/<pid>/stat), and the
time its live threads waited for a CPU (/proc/<pid>/task/*/schedstat).
Cluster: the live postmaster and backends the same way, plus the postmaster's reaped
children (cutime + cstime), which holds the backends that exited (pgbench's).
Client: the bench shell's reaped children (cutime + cstime): wrk or pgbench, waited for.
Machine: all CPUs' busy and stolen time (/proc/stat), so that the CPU everything else used
meanwhile (the kernel's own threads, other tenants of a shared host) shows next to a
scenario whose latency it may have spoiled.
"""

import argparse
import json
import os
import sys

TICK = os.sysconf("SC_CLK_TCK")


def schedstat(pid):
    """(on-CPU ns, run-queue wait ns) summed over the process's threads."""
    cpu = wait = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0, 0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                a, b, _ = f.read().split()
            cpu += int(a)
            wait += int(b)
        except (OSError, ValueError):
            pass
    return cpu, wait


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        raw = f.read()
    # comm may contain spaces: fields start after the closing parenthesis.
    return raw[raw.rindex(")") + 2:].split()


def reaped_children_s(pid):
    f = stat_fields(pid)
    # after comm: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    return (int(f[13]) + int(f[14])) / TICK


def children(ppid):
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if stat_fields(name)[1] == str(ppid):
                    out.append(int(name))
            except (OSError, IndexError):
                pass
    return out


def process_cpu_s(pid):
    """utime + stime of the whole process, exited threads included (moto_server runs a
    thread per request)."""
    f = stat_fields(pid)
    return (int(f[11]) + int(f[12])) / TICK


def machine_s():
    """(busy, steal) seconds over all CPUs since boot."""
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6]
    steal = cpu[7] if len(cpu) > 7 else 0
    return busy / TICK, steal / TICK


def snapshot(args):
    g_cpu, g_wait = schedstat(args.server) if args.server else (0, 0)
    if args.server:
        g_cpu = process_cpu_s(args.server) * 1e9
    pids = [args.postmaster] + children(args.postmaster) if args.postmaster else []
    p_cpu = p_wait = 0
    for pid in pids:
        c, w = schedstat(pid)
        p_cpu += c
        p_wait += w
    return {
        "server_cpu_s": g_cpu / 1e9,
        "server_wait_s": g_wait / 1e9,
        "postgres_cpu_s": p_cpu / 1e9 + (reaped_children_s(args.postmaster) if args.postmaster else 0),
        "postgres_wait_live_s": p_wait / 1e9,
        "client_cpu_s": reaped_children_s(args.shell),
        "machine_busy_s": machine_s()[0],
        "machine_steal_s": machine_s()[1],
    }


def diff(args):
    a = json.load(open(args.diff[0]))
    b = json.load(open(args.diff[1]))
    n = max(1, args.requests)
    d = {k: b[k] - a[k] for k in a}
    return {
        "server_us_per_request": round(d["server_cpu_s"] / n * 1e6, 1),
        "postgres_us_per_request": round(d["postgres_cpu_s"] / n * 1e6, 1),
        "client_us_per_request": round(d["client_cpu_s"] / n * 1e6, 1),
        "server_cpu_s": round(d["server_cpu_s"], 2),
        "postgres_cpu_s": round(d["postgres_cpu_s"], 2),
        "client_cpu_s": round(d["client_cpu_s"], 2),
        "total_us_per_request": round(
            (d["server_cpu_s"] + d["postgres_cpu_s"] + d["client_cpu_s"]) / n * 1e6, 1),
        # Time the server's threads were runnable but waiting for a CPU.
        "server_runqueue_wait_s": round(d["server_wait_s"], 2),
        # CPU busy with anything but the three above, and time the host took the CPUs
        # away; snapshots from before this field have neither.
        "other_busy_s": round(max(0.0, d.get("machine_busy_s", 0.0) - d["server_cpu_s"]
                                  - d["postgres_cpu_s"] - d["client_cpu_s"]), 2),
        "steal_s": round(d.get("machine_steal_s", 0.0), 2),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--server", type=int, default=0)
    p.add_argument("--postmaster", type=int)
    p.add_argument("--shell", type=int)
    p.add_argument("--diff", nargs=2)
    p.add_argument("--requests", type=int, default=1)
    args = p.parse_args()
    out = diff(args) if args.diff else snapshot(args)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
