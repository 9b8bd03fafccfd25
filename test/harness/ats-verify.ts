// Checking an ATS plugin without serving: traffic_server -C verify_*.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { DEFAULT_BIN_DIR, keepTmp, writeHarnessRunroot } from './ats-runroot.js';
import { readText } from './log-files.js';
import { freePorts } from './ports.js';
import { runCommand } from './processes.js';

const DEFAULT_COMMAND_TIMEOUT_MS = 20_000;

export interface VerifyResult {
  ok: boolean;
  /** `traffic_server -C "verify_<kind>_plugin <so>"` passed: the .so loads and has the entry points. */
  loads: boolean;
  /** `traffic_server -C verify_config` passed with the plugin configured with `args` (undefined when not run). */
  configures: boolean | undefined;
  /** Command output (ATS's diagnostics go to its stderr) and diags.log of both steps. */
  output: string;
}

/**
 * Checks a plugin without serving, in a temp runroot like a test's ATS has.
 * Step 1: `verify_global_plugin` / `verify_remap_plugin` (ATS 9.2 takes no
 * plugin arguments there: any text after the path is read as part of the
 * path). Step 2, when step 1 passed: `verify_config` with the plugin in
 * plugin.config (global) or behind a remap rule with @pparam=args (remap),
 * which initialises it with `args`. `files` are written under the temp
 * runroot's etc/ (relative args resolve there).
 */
export async function verifyPlugin(
  kind: 'global' | 'remap',
  soPath: string,
  args: string[] = [],
  opts: { files?: Record<string, string>; timeoutMs?: number; binDir?: string; keep?: boolean } = {},
): Promise<VerifyResult> {
  for (const a of [soPath, ...args]) {
    if (a === '' || /\s/.test(a)) throw new Error(`verifyPlugin: empty or whitespace-containing argument ${JSON.stringify(a)}`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ats-ingress-verify-'));
  try {
    const [port] = await freePorts(1);
    await writeHarnessRunroot(dir, { files: opts.files ?? {} }, { http: port as number, https: undefined });
    const bin = path.join(opts.binDir ?? DEFAULT_BIN_DIR, 'traffic_server');
    const env = { ...process.env, TS_RUNROOT: dir };
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const diagsFile = path.join(dir, 'log', 'diags.log');
    const output: string[] = [];
    const step = async (command: string): Promise<boolean> => {
      await rm(diagsFile, { force: true });
      const r = await runCommand(bin, ['-C', command], { env, cwd: dir, timeoutMs });
      output.push(
        `$ traffic_server -C "${command}"  -> ${r.timedOut ? 'timed out' : (r.signal ?? `exit ${r.code}`)}`,
        r.stdout.trimEnd(),
        r.stderr.trimEnd(),
        `--- diags.log ---`,
        (await readText(diagsFile)).trimEnd(),
      );
      return r.code === 0 && !r.timedOut;
    };

    const loads = await step(`verify_${kind}_plugin ${soPath}`);
    let configures: boolean | undefined;
    if (loads) {
      if (kind === 'global') {
        await writeFile(path.join(dir, 'etc', 'plugin.config'), [soPath, ...args].join(' ') + '\n');
      } else {
        const pparams = args.map((a) => ` @pparam=${a}`).join('');
        await writeFile(path.join(dir, 'etc', 'remap.config'), `map http://verify-plugin.invalid/ http://127.0.0.1:1/ @plugin=${soPath}${pparams}\n`);
      }
      configures = await step('verify_config');
    }
    return { ok: loads && configures === true, loads, configures, output: output.filter((l) => l !== '').join('\n') };
  } finally {
    if (!keepTmp(opts)) await rm(dir, { recursive: true, force: true });
  }
}
