/**
 * How much of a CPU went to OTHER work during a step: the CPU's busy time (user + nice + system,
 * from /proc/stat) minus the time of the benchmark process pinned to it, plus hypervisor steal.
 * On a shared machine this tells a server that was slow from a server that was starved.
 */
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** Busy and steal time of one CPU so far, in ms. */
export interface CpuTimes {
  busyMs: number;
  stealMs: number;
}

/** Reads the times of CPU `cpu` from /proc/stat; null when unavailable (not Linux). */
export function readCpuTimes(cpu: number): CpuTimes | null {
  try {
    const stat = readFileSync('/proc/stat', 'latin1');
    const line = stat.split('\n').find((l) => l.startsWith(`cpu${cpu} `));
    if (!line) return null;
    // cpuN user nice system idle iowait irq softirq steal …
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const ms = (ticks: number | undefined): number => ((ticks ?? 0) * 1000) / CLOCK_TICKS_PER_SECOND;
    return { busyMs: ms(f[0]) + ms(f[1]) + ms(f[2]), stealMs: ms(f[7]) };
  } catch {
    return null;
  }
}

/**
 * Percentage of wall time CPU `cpu` spent on work other than `ownMs` (the pinned process's CPU
 * time over the same interval), steal included; null when unknown. Clamped at 0 (the two clocks
 * tick at different moments, so small negative values are rounding).
 */
export function otherLoadPct(before: CpuTimes | null, after: CpuTimes | null, ownMs: number | null, wallMs: number): number | null {
  if (!before || !after || ownMs === null || wallMs <= 0) return null;
  const other = after.busyMs - before.busyMs - ownMs + (after.stealMs - before.stealMs);
  return Math.max(0, (other / wallMs) * 100);
}
