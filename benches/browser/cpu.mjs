// Is the machine busy? CPU time used by processes other than this bench (node, its children,
// Chromium and its processes) while a timing runs, from /proc (Linux).
import { readdirSync, readFileSync } from 'node:fs';

const TICK = 100; // USER_HZ: clock ticks per second in /proc
/** Cores' worth of CPU that other processes may use on average before a timing is called busy. */
export const BUSY_CORES = 0.15;

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null; // the process ended
  }
}

/** Non-idle ticks of the whole machine. */
function machineTicks() {
  const cpu = read('/proc/stat').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return user + nice + system + irq + softirq + steal;
}

/** { pid: { ppid, ticks } } for every process. */
function processes() {
  const out = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the comm: state ppid ... utime(14) stime(15) cutime(16) cstime(17) in 1-based stat
    // numbering. The children's times are those of ended children it waited for: a process
    // (rapidsnark, run with execFileSync) that ends between two samples still counts as ours.
    const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
    out.set(Number(name), { ppid: Number(fields[1]), ticks: utime + stime + cutime + cstime });
  }
  return out;
}

/** Ticks of this process and all its descendants. */
function ownTicks(procs) {
  const mine = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!mine.has(pid) && mine.has(p.ppid)) {
        mine.add(pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const pid of mine) ticks += procs.get(pid)?.ticks ?? 0;
  return { ticks, pids: mine };
}

/** Peak resident set size (VmHWM) of a process, in bytes; 0 when unknown. */
export function peakRss(pid) {
  return statusField(pid, 'VmHWM');
}

function statusField(pid, name) {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(read(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Samples every 250 ms: machine ticks minus this bench's own ticks (with those of its ended
 * children) is what others used. An own process whose parent has not yet waited for it when a
 * sample runs loses at most one interval of its time, which makes the estimate err towards "busy".
 */
export class CpuMonitor {
  start() {
    this.others = 0;
    this.maxRss = 0;
    this.startedAt = performance.now();
    this.last = this.#sample();
    this.timer = setInterval(() => this.#step(), 250);
  }

  #sample() {
    const procs = processes();
    return { machine: machineTicks(), own: ownTicks(procs), procs };
  }

  #step() {
    const now = this.#sample();
    // Own processes alive at both samples: their delta; new ones: all their ticks so far.
    let own = 0;
    for (const pid of now.own.pids) {
      const before = this.last.procs.get(pid)?.ticks ?? 0;
      own += (now.procs.get(pid)?.ticks ?? 0) - (this.last.own.pids.has(pid) ? before : 0);
    }
    this.others += Math.max(0, now.machine - this.last.machine - own);
    this.last = now;
  }

  /** Records the summed current RSS of `pids` (for a peak that VmHWM would also give). */
  sampleRss(pids) {
    const rss = pids.reduce((sum, pid) => sum + statusField(pid, 'VmRSS'), 0);
    this.maxRss = Math.max(this.maxRss, rss);
  }

  stop() {
    clearInterval(this.timer);
    this.#step();
    const seconds = (performance.now() - this.startedAt) / 1e3;
    const otherCores = this.others / TICK / Math.max(seconds, 1e-3);
    return { seconds, otherCores: Math.round(otherCores * 100) / 100, busy: otherCores > BUSY_CORES };
  }
}
