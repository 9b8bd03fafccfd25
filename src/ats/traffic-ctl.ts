// Traffic Server's records through traffic_ctl, which talks to
// traffic_manager over the runroot's management socket. Names and values go
// to traffic_ctl as separate arguments (no shell, no configuration text);
// every call is bounded in time.

import { execFile } from 'node:child_process';

export type RecordDataType = 'INT' | 'FLOAT' | 'STRING' | 'COUNTER';
/** What a change needs to take effect, as `traffic_ctl config describe` says. */
export type RecordUpdate = 'dynamic' | 'restart traffic_server' | 'restart traffic_manager' | 'none';

export interface RecordInfo {
  readonly name: string;
  readonly dataType: RecordDataType;
  readonly update: RecordUpdate;
  readonly current: string;
  readonly default: string;
}

export type SetResult = { readonly ok: true; readonly restartRequired: boolean } | { readonly ok: false; readonly message: string };

export class TrafficCtlError extends Error {
  override readonly name = 'TrafficCtlError';
  constructor(
    message: string,
    readonly code = 'ERR_TRAFFIC_CTL',
  ) {
    super(message);
  }
}

const UPDATE: Readonly<Record<string, RecordUpdate>> = {
  'dynamic, no restart': 'dynamic',
  'static, restart traffic_server': 'restart traffic_server',
  'static, restart traffic_manager': 'restart traffic_manager',
  none: 'none',
};

/** The records of `traffic_ctl config describe` output, by name. */
export function parseDescribe(text: string): Map<string, RecordInfo> {
  const out = new Map<string, RecordInfo>();
  let fields = new Map<string, string>();
  const flush = () => {
    const name = fields.get('Name');
    const dataType = fields.get('Data Type') as RecordDataType | undefined;
    const update = UPDATE[fields.get('Update Type') ?? ''];
    if (name && dataType && update) {
      out.set(name, { name, dataType, update, current: fields.get('Current Value') ?? '', default: fields.get('Default Value') ?? '' });
    }
    fields = new Map();
  };
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z ]+?)\s*: ?(.*)$/.exec(line);
    if (!m) continue;
    const [, key = '', value = ''] = m;
    if (key === 'Name' && fields.size > 0) flush();
    fields.set(key, value.trimEnd());
  }
  if (fields.size > 0) flush();
  return out;
}

export class TrafficCtl {
  constructor(
    /** The runroot of the ATS that traffic_manager runs (its run/ holds the socket). */
    private readonly runroot: string,
    private readonly bin = '/usr/bin/traffic_ctl',
    private readonly timeoutMs = 15_000,
  ) {}

  #run(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      execFile(
        this.bin,
        [...args],
        { env: { ...process.env, TS_RUNROOT: this.runroot }, timeout: this.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
            reject(new TrafficCtlError(`cannot run ${this.bin}: ${err.message}`, 'ERR_TRAFFIC_CTL_SPAWN'));
            return;
          }
          if (err && (err as { killed?: boolean }).killed) {
            reject(new TrafficCtlError(`traffic_ctl ${args.slice(0, 2).join(' ')}: no answer within ${this.timeoutMs} ms`, 'ERR_TRAFFIC_CTL_TIMEOUT'));
            return;
          }
          const code = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
          resolve({ code, stdout, stderr: stderr.replace(/^NOTE: using the environment variable TS_RUNROOT\n?/m, '') });
        },
      );
    });
  }

  /** Every proxy.config record ATS knows, with its type, update type, value and default. */
  async describeAll(): Promise<Map<string, RecordInfo>> {
    const listed = await this.#run(['config', 'match', '--records', '.']);
    if (listed.code !== 0) throw new TrafficCtlError(`traffic_ctl config match: ${listed.stderr.trim() || `exit ${listed.code}`} (is traffic_manager running in ${this.runroot}?)`);
    const names = listed.stdout.split('\n').map((l) => l.split(' ')[1] ?? '').filter((n) => n.startsWith('proxy.config.'));
    if (names.length === 0) throw new TrafficCtlError('traffic_ctl config match listed no records');
    const described = await this.#run(['config', 'describe', ...names]);
    if (described.code !== 0) throw new TrafficCtlError(`traffic_ctl config describe: ${described.stderr.trim() || `exit ${described.code}`}`);
    return parseDescribe(described.stdout);
  }

  /** The current values of records ATS knows (`traffic_ctl config get`). */
  async get(names: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (names.length === 0) return out;
    const r = await this.#run(['config', 'get', ...names]);
    for (const line of r.stdout.split('\n')) {
      const i = line.indexOf(': ');
      if (i > 0) out.set(line.slice(0, i), line.slice(i + 2));
    }
    if (r.code !== 0 && out.size === 0) throw new TrafficCtlError(`traffic_ctl config get: ${r.stderr.trim() || `exit ${r.code}`}`);
    return out;
  }

  /** Sets one record; ATS itself checks the value against the record's type and range. */
  async set(name: string, value: string): Promise<SetResult> {
    const r = await this.#run(['config', 'set', name, value]);
    if (r.code !== 0) {
      const why = r.stderr.trim().replace(/^Traffic Server: /, '') || `exit ${r.code}`;
      return { ok: false, message: why };
    }
    return { ok: true, restartRequired: /restart required/.test(r.stdout) };
  }
}
