// Runs `soulspot` (the built CLI) as a child process and measures it as a whole: wall time from
// spawn to exit, and the child's own peak RSS and CPU time (user + system), which a preloaded hook
// prints on stderr as the child exits, whatever command it runs. The hook is preloaded into every
// thread of the child (worker threads run `--import` modules too), so it reports from the main
// thread only: the others exit first, with the process's figures so far.
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const USAGE_HOOK =
  "data:text/javascript,import{isMainThread}from'node:worker_threads';if(isMainThread)process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write('MAXRSS_KB '+u.maxRSS+' CPU_US '+(u.userCPUTime+u.systemCPUTime)+'\\n')})";

/** @returns {Promise<{ code: number | null, out: string, err: string, wallMs: number, maxRssMb: number, cpuMs: number }>} */
export function runMeasuredCli(argv, env = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', USAGE_HOOK, join(root, 'bin/soulspot.js'), ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const usage = /MAXRSS_KB (\d+) CPU_US (\d+)/.exec(err);
      resolve({ code, out, err, wallMs: performance.now() - started, maxRssMb: usage ? Number(usage[1]) / 1024 : NaN, cpuMs: usage ? Number(usage[2]) / 1000 : NaN });
    });
  });
}
