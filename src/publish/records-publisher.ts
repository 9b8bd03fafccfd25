// ATS records from the records ConfigMap, applied through traffic_manager
// (traffic_ctl), checked against the records ATS itself reports.
//
// - Each key must be a record ATS knows (`traffic_ctl config describe`), of
//   the right type, not one ats-ingress sets itself, and one that can change
//   at run time; ATS checks the value's range when it is set. What is
//   refused is a problem on the ConfigMap (Event, log, metric) and does not
//   block the other keys.
// - A record that needs a restart is set (it takes effect when ATS restarts)
//   and reported as such; ats-ingress never restarts ATS.
// - Values set at run time are not written to records.config by ATS 9.2 and
//   vanish when traffic_manager restarts, so this publisher compares ATS with
//   the ConfigMap on every change and every `intervalMs`, and sets again what
//   differs; what it applied is kept in a file under the ATS runroot, so that
//   after a controller restart a key removed meanwhile is still reverted to
//   ATS's default.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { productionRecords } from '../ats/runroot.js';
import { TrafficCtl, type RecordInfo } from '../ats/traffic-ctl.js';
import type { BuildResult, Problem, RecordsModel } from '../model/model.js';
import type { Logger } from '../observe/logger.js';
import type { ControllerMetrics } from '../observe/metrics.js';
import { ProblemLog } from './problem-log.js';
import type { Publisher, PublisherContext } from './publisher.js';

export interface RecordsOptions {
  /** The ATS runroot traffic_manager runs in (shared with the ATS container). */
  readonly runroot: string;
  /** Compare ATS with the ConfigMap this often (default 10 s). */
  readonly intervalMs?: number;
  readonly trafficCtl?: string;
}

/** Records ats-ingress sets itself (src/ats/runroot.ts): a ConfigMap may not change them. */
const MANAGED: ReadonlySet<string> = new Set(Object.keys(productionRecords({ dir: '/', bind: '0.0.0.0', httpPort: 1 })));

const INT = /^-?[0-9]{1,19}$/;
const FLOAT = /^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/;

interface Applied {
  readonly configMap: string;
  /** name → the value set. */
  readonly values: Record<string, string>;
}

export interface RecordsPass {
  readonly applied: readonly string[];
  readonly restartRequired: readonly string[];
  readonly refused: readonly string[];
  readonly reverted: readonly string[];
}

export class RecordsPublisher implements Publisher {
  readonly name = 'records';
  readonly #ctl: TrafficCtl;
  readonly #stateFile: string;
  readonly #intervalMs: number;
  readonly #problems: ProblemLog;
  #desired: RecordsModel | undefined;
  /** Counts changes of #desired; a pass notes the one it worked from. */
  #version = 0;
  #applied: Applied | undefined;
  #running: Promise<{ pass: RecordsPass; version: number } | undefined> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #unreachable = false;
  #last: RecordsPass | undefined;

  constructor(
    options: RecordsOptions,
    private readonly ctx: PublisherContext,
    private readonly logger: Logger,
    private readonly metrics: ControllerMetrics,
  ) {
    this.#ctl = new TrafficCtl(options.runroot, options.trafficCtl);
    this.#stateFile = path.join(options.runroot, 'ats-ingress', 'records-applied.json');
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#problems = new ProblemLog(logger, metrics, 'records');
  }

  /** The outcome of the last pass that reached ATS. */
  get last(): RecordsPass | undefined {
    return this.#last;
  }

  async publish(result: BuildResult): Promise<void> {
    const records = result.model.records;
    if (!records) return;
    const changed = JSON.stringify(records) !== JSON.stringify(this.#desired);
    this.#desired = records;
    if (changed) this.#version++;
    this.#schedule();
    // The loop does not wait for ATS: a pass runs in the background.
    if (changed) void this.#kick();
  }

  /** Resolves with the outcome of a pass that saw the ConfigMap as published last (undefined when ATS could not be reached). */
  async syncNow(): Promise<RecordsPass | undefined> {
    for (;;) {
      const outcome = await (this.#running ?? this.#kick());
      if (!outcome || outcome.version === this.#version) return outcome?.pass;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#kick();
      this.#schedule();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  // Owns its promise: a failing pass is logged here, never left floating.
  #kick(): Promise<{ pass: RecordsPass; version: number } | undefined> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const run = this.#pass()
      .catch((err: unknown) => {
        this.metrics.recordsReconciles.inc({ outcome: 'unreachable' });
        if (!this.#unreachable) this.logger.warn('cannot reach traffic_manager to apply the records ConfigMap; trying again', { error: err });
        this.#unreachable = true;
        return undefined;
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          void this.#kick();
        }
      });
    this.#running = run;
    return run;
  }

  async #loadApplied(configMap: string): Promise<Applied> {
    if (this.#applied) return this.#applied;
    try {
      const parsed = JSON.parse(await readFile(this.#stateFile, 'utf8')) as Applied;
      if (parsed.configMap === configMap && typeof parsed.values === 'object') return (this.#applied = parsed);
    } catch {
      // None yet, or unreadable: start from nothing applied.
    }
    return (this.#applied = { configMap, values: {} });
  }

  async #saveApplied(applied: Applied): Promise<void> {
    await mkdir(path.dirname(this.#stateFile), { recursive: true });
    const tmp = `${this.#stateFile}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(applied, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.#stateFile);
    this.#applied = applied;
  }

  async #pass(): Promise<{ pass: RecordsPass; version: number } | undefined> {
    const desired = this.#desired;
    const version = this.#version;
    if (!desired || this.#stopped) return undefined;
    const [ns = '', name = ''] = desired.configMap.split('/');
    const catalog = await this.#ctl.describeAll();
    if (this.#unreachable) this.logger.info('traffic_manager answers again: applying the records ConfigMap');
    this.#unreachable = false;
    const before = await this.#loadApplied(desired.configMap);
    const values: Record<string, string> = {};
    const problems: Problem[] = [];
    const problem = (record: string, severity: Problem['severity'], message: string) =>
      problems.push({ kind: 'ConfigMap', namespace: ns, name, field: `data[${record}]`, message, severity });
    const applied: string[] = [];
    const restartRequired: string[] = [];
    const refused: string[] = [];

    for (const { name: record, value } of desired.records) {
      const info = catalog.get(record);
      const why = refusal(record, value, info);
      if (why || !info) {
        problem(record, 'Error', `${why ?? 'unknown'}; it is not applied`);
        refused.push(record);
        continue;
      }
      if (info.current !== value) {
        const r = await this.#ctl.set(record, value);
        if (!r.ok) {
          problem(record, 'Error', `ATS refused "${value}": it is out of the record's range or not of its form (traffic_ctl said: ${r.message}); it is not applied`);
          refused.push(record);
          continue;
        }
        this.logger.info('set ATS record', { record, value, update: info.update });
      }
      values[record] = value;
      if (info.update === 'dynamic') {
        applied.push(record);
      } else {
        restartRequired.push(record);
        problem(record, 'Warning', `this record takes effect only when ${info.update === 'restart traffic_manager' ? 'traffic_manager' : 'traffic_server'} restarts (ATS reports it as static); it is set, and ats-ingress never restarts ATS itself`);
      }
    }

    // Keys applied before and gone now: back to ATS's default.
    const reverted: string[] = [];
    for (const [record, was] of Object.entries(before.values)) {
      if (record in values) continue;
      const info = catalog.get(record);
      if (!info) continue;
      if (info.current !== info.default) {
        const r = await this.#ctl.set(record, info.default);
        if (!r.ok) {
          this.logger.warn('cannot revert an ATS record to its default', { record, default: info.default, error: r.message });
          values[record] = was; // try again next pass
          continue;
        }
      }
      reverted.push(record);
      this.logger.info('reverted ATS record to its default', { record, default: info.default });
    }

    if (JSON.stringify(values) !== JSON.stringify(before.values)) await this.#saveApplied({ configMap: desired.configMap, values });
    this.#problems.report(problems);
    this.ctx.reportProblems('records', problems);
    this.metrics.records.set({ state: 'applied' }, applied.length);
    this.metrics.records.set({ state: 'restart_required' }, restartRequired.length);
    this.metrics.records.set({ state: 'refused' }, refused.length);
    this.metrics.recordsReconciles.inc({ outcome: 'ok' });
    this.#last = { applied, restartRequired, refused, reverted };
    return { pass: this.#last, version };
  }
}

/** Why a key cannot be applied, before asking ATS to set it; undefined when it can. */
function refusal(record: string, value: string, info: RecordInfo | undefined): string | undefined {
  if (!info) return `ATS has no record "${record}" (traffic_ctl config describe knows none by that name)`;
  if (MANAGED.has(record)) return 'this record is set by ats-ingress itself (its own configuration of ATS) and may not be changed by the ConfigMap';
  if (info.update === 'none') return 'ATS does not let this record change at run time';
  switch (info.dataType) {
    case 'INT':
      return INT.test(value) ? undefined : `"${value}" is not an integer, and this is an INT record`;
    case 'FLOAT':
      return FLOAT.test(value) ? undefined : `"${value}" is not a number, and this is a FLOAT record`;
    case 'COUNTER':
      return 'this is a counter, not a setting';
    case 'STRING':
      return undefined;
  }
}
