// CPU seconds of a process from /proc/<pid>/stat: utime + stime + cutime + cstime (children
// included: a full sync's snapshot is written by a forked child). Linux only.
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on every Linux the bench runs on). */
const TICKS_PER_SECOND = 100;

export function procCpuMs(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Fields after the command name (which may hold spaces) start at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime are fields 14-17 of the whole line, 12-15 after the name.
  let ticks = 0;
  for (let i = 11; i <= 14; i++) ticks += Number(fields[i]);
  return (ticks * 1000) / TICKS_PER_SECOND;
}
