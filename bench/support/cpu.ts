/**
 * CPU time of the parts of an embedded-stack benchmark, so figures can be compared on shared
 * cores where wall clocks are noisy: this process (gateway, senders, and the worker when it runs
 * here), its child processes (the Temporal dev server; a worker process, told apart as a node
 * process), and the PostgreSQL backends serving this database. Read from /proc (Linux);
 * elsewhere the children and backends read as null.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks a second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  /** This process, user + system, ms. */
  self: number;
  /** Its descendants still running, user + system, ms, node processes (a worker) apart; null without /proc. */
  children: Descendants | null;
  /** The database's backends, by pid, user + system, ms; null without /proc. */
  backends: Map<number, number> | null;
}

interface ProcStat {
  ppid: number;
  comm: string;
  ms: number;
}

interface Descendants {
  /** Node processes (a worker process). */
  node: number;
  /** Everything else (the dev server). */
  other: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields start after its last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    return { ppid: Number(fields[1]), comm, ms: (ticks * 1000) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

function descendantsMs(root: number): Descendants | null {
  let pids: number[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return null;
  }
  const stats = new Map<number, ProcStat>();
  for (const pid of pids) {
    const s = procStat(pid);
    if (s !== undefined) stats.set(pid, s);
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = stats.get(pid)?.ppid, hops = 0; p !== undefined && p > 1 && hops < 64; p = stats.get(p)?.ppid, hops++) {
      if (p === root) return true;
    }
    return false;
  };
  const ms: Descendants = { node: 0, other: 0 };
  for (const [pid, s] of stats) if (isDescendant(pid)) ms[s.comm === 'node' ? 'node' : 'other'] += s.ms;
  return ms;
}

/** `backendPids`: the database's backends now (pg_stat_activity of this database). */
export function cpuSnapshot(backendPids: readonly number[]): CpuSnapshot {
  const { userCPUTime, systemCPUTime } = process.resourceUsage();
  const children = descendantsMs(process.pid);
  let backends: Map<number, number> | null = null;
  if (children !== null) {
    backends = new Map();
    for (const pid of backendPids) {
      const s = procStat(pid);
      if (s !== undefined) backends.set(pid, s.ms);
    }
  }
  return { self: (userCPUTime + systemCPUTime) / 1000, children, backends };
}

export interface CpuSpent {
  self: number;
  /** The dev server. */
  children: number | null;
  /** A worker process; null when the worker runs in this process. */
  worker: number | null;
  /** Backends alive at both snapshots (the pool's connections live through a phase). */
  backends: number | null;
}

export function cpuSpent(before: CpuSnapshot, after: CpuSnapshot): CpuSpent {
  let backends: number | null = null;
  if (before.backends !== null && after.backends !== null) {
    backends = 0;
    for (const [pid, ms] of after.backends) backends += ms - (before.backends.get(pid) ?? 0);
  }
  const both = before.children !== null && after.children !== null;
  const worker = both ? after.children!.node - before.children!.node : null;
  return {
    self: after.self - before.self,
    children: both ? after.children!.other - before.children!.other : null,
    worker: worker === 0 && after.children?.node === 0 ? null : worker,
    backends,
  };
}

/** "bench process 4.1 / dev server 2.0 / PostgreSQL 1.1 ms per upload". */
export function perUpload(spent: CpuSpent, uploads: number): string {
  const f = (ms: number | null) => (ms === null ? 'n/a' : (ms / uploads).toFixed(2));
  const total = spent.self + (spent.worker ?? 0) + (spent.children ?? 0) + (spent.backends ?? 0);
  const worker = spent.worker === null ? '' : ` / worker process ${f(spent.worker)}`;
  return `${f(total)} (bench process ${f(spent.self)}${worker} / dev server ${f(spent.children)} / PostgreSQL ${f(spent.backends)}) ms per upload`;
}
