// Loaded with `node --import` into the controller process that
// manifests-bench runs: at exit, writes the process's getrusage() (its peak
// RSS among it) to the file ATS_INGRESS_BENCH_RUSAGE names. Only the bench
// loads it; the controller knows nothing of it.
import { writeFileSync } from 'node:fs';

const file = process.env.ATS_INGRESS_BENCH_RUSAGE;
if (file !== undefined && file !== '') {
  process.on('exit', () => writeFileSync(file, JSON.stringify(process.resourceUsage())));
}
