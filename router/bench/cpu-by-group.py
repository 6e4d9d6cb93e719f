#!/usr/bin/env python3
"""Where a benchmark run's CPU went on the whole machine, by group of processes (pgbench-compare.sh --machine).

  cpu-by-group.py snapshot ROUTER_PID PRIMARY_PORT > FILE                 every process's CPU and context switches so far
  cpu-by-group.py report FILE0 FILE1 TRANSACTIONS PGBENCH_CPU_SECONDS     per transaction between the two

Groups: the router's JVM; pgha's other JVMs; PgBouncer; Pgpool-II; the primary's and the standbys'
PostgreSQL processes, each split into client backends (the proxy's server connections, or pgbench's
own), walsenders, the rest (postmaster, startup, walreceiver, checkpointer...) and backends that
ended in between (their CPU reaches the postmaster when it reaps them); kernel threads; everything
else. pgbench runs between the snapshots, so its CPU is given (from time(1)); the interrupt and
softirq time the kernel keeps apart from any process comes from /proc/stat. A process that started
in between counts whole, and the report says how many did: a proxy that opened server connections
during the run shows there.
"""
import os
import sys

TICK_US = 1_000_000 / os.sysconf("SC_CLK_TCK")
BUSY, INTERRUPTS = "(machine busy)", "(interrupts and softirq)"


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # the command name is in parentheses and may hold spaces: split after its closing one
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    # comm, ppid, utime + stime, and the same of its ended children that it waited for
    return comm, int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def context_switches(pid):
    """Voluntary and involuntary context switches of all of a process's threads so far."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                total += sum(int(line.split()[1]) for line in f if "ctxt_switches:" in line)
        except OSError:
            pass  # the thread ended
    return total


def title(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def port_of_postmaster(pid):
    """The port in the data directory's postmaster.pid (its fourth line), None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/cwd/postmaster.pid") as f:
            return f.read().splitlines()[3].strip()
    except (OSError, IndexError):
        return None


def snapshot(router_pid, primary_port):
    """One line per process: pid, group, CPU ticks, context switches; then the machine's own lines."""
    procs = {}
    for name in os.listdir("/proc"):
        # not this snapshot itself, which would always count as started in between
        if name.isdigit() and int(name) != os.getpid():
            try:
                procs[int(name)] = stat(name)
            except (OSError, ValueError):
                pass  # ended while listed
    postmasters = {pid: port_of_postmaster(pid) for pid, (comm, ppid, _, _) in procs.items()
                   if comm == "postgres" and procs.get(ppid, ("",))[0] != "postgres"}
    for pid, (comm, ppid, ticks, reaped) in procs.items():
        if pid in postmasters or ppid in postmasters:
            server = "primary" if postmasters[pid if pid in postmasters else ppid] == primary_port else "standbys"
            text = title(pid)
            kind = "walsenders" if "walsender" in text else "client backends" if "(" in text else "other processes"
            group = f"PostgreSQL {server}: {kind}"
            if pid in postmasters:
                print(f"{-pid}\tPostgreSQL {server}: backends that ended\t{reaped}\t0")
        elif pid == router_pid:
            group = "router (JVM)"
        elif comm == "java":
            group = "other pgha services (JVMs)"
        elif comm in ("pgbouncer", "pgpool"):
            group = comm
        elif pid == 2 or ppid == 2:
            group = "kernel threads"
        else:
            group = "other processes"
        try:
            switches = context_switches(pid)
        except OSError:
            continue  # ended meanwhile
        print(f"{pid}\t{group}\t{ticks}\t{switches}")
    with open("/proc/stat") as f:
        cpu = [int(v) for v in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    print(f"0\t{INTERRUPTS}\t{cpu[5] + cpu[6]}\t0")
    print(f"0\t{BUSY}\t{sum(cpu[:8]) - cpu[3] - cpu[4]}\t0")


def read(path):
    with open(path) as f:
        return {(int(pid), group): (int(ticks), int(switches))
                for pid, group, ticks, switches in (line.rstrip("\n").split("\t") for line in f)}


def report(before, after, transactions, pgbench_seconds):
    if transactions <= 0:
        print("    no transactions")
        return
    a, b = read(before), read(after)
    cpu, switches, started = {}, {}, {}
    for key, (ticks, count) in b.items():
        group = key[1]
        ticks0, count0 = a.get(key, (0, 0))
        if key not in a:
            started[group] = started.get(group, 0) + 1
        cpu[group] = cpu.get(group, 0) + (ticks - ticks0) * TICK_US / transactions
        switches[group] = switches.get(group, 0) + (count - count0) / transactions
    cpu["pgbench"] = pgbench_seconds * 1_000_000 / transactions
    print(f"    {'':<44} {'us CPU':>7} {'switches':>9}  (per transaction)")
    for group, us in sorted(cpu.items(), key=lambda r: -r[1]):
        if us >= 0.05 or group.startswith("("):
            note = f"  {started[group]} started during the run" if started.get(group) and group[0] != "(" else ""
            count = f"{switches[group]:9.2f}" if group in switches and group[0] != "(" else f"{'':9}"
            print(f"    {group:<44} {us:7.1f} {count}{note}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "snapshot":
        snapshot(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 6 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    else:
        sys.exit(__doc__)
