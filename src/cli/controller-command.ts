// `ats-ingress controller`: parses the flags once, wires the controller for
// its source, and runs it (or builds and publishes once with --once).
import { Controller } from '../controller/controller.js';
import { kubernetesWiring, manifestsWiring, type Wiring } from '../controller/wiring.js';
import { createLogger, type Logger } from '../observe/logger.js';
import { describeProblem } from '../publish/problem-log.js';
import type { PublisherContext } from '../publish/publisher.js';
import { statusReport } from '../publish/status-report.js';
import type { SourceProblem } from '../sources/source.js';
import { CONTROLLER_HELP, parseControllerOptions, type ControllerOptions } from './controller-options.js';
import { CliError, toJson, type Io } from './io.js';

async function wiringFor(o: ControllerOptions, logger: Logger): Promise<Wiring & { sourceProblems?: () => readonly SourceProblem[] }> {
  if (o.source.kind === 'manifests') {
    const w = manifestsWiring({ dir: o.source.dir, namespaces: o.build.watchNamespaces, watch: !o.once }, logger);
    return { ...w, sourceProblems: () => w.source.problems };
  }
  try {
    return await kubernetesWiring(
      {
        ...(o.source.kubeconfig !== undefined ? { kubeconfig: o.source.kubeconfig } : {}),
        namespaces: o.build.watchNamespaces,
        leaderElectionNamespace: o.leaderElectionNamespace,
        publishAddresses: o.publishAddresses,
        build: o.build,
        ...(o.gatewayServices ? { gatewayServices: o.gatewayServices } : {}),
        ...(o.build.recordsConfigMap ? { recordsConfigMap: o.build.recordsConfigMap } : {}),
      },
      logger,
    );
  } catch (err) {
    throw new CliError((err as Error).message, 1);
  }
}

export async function runController(args: string[], io: Io, signal?: AbortSignal): Promise<number> {
  const o = parseControllerOptions(args);
  if (o.help) {
    io.out(CONTROLLER_HELP);
    return 0;
  }
  const logger = createLogger({ level: o.logLevel, write: (line) => io.err(line) });
  const { sourceProblems, ...wiring } = await wiringFor(o, logger);
  let ctx: PublisherContext | undefined;
  const controller = new Controller({
    ...wiring,
    // The objects the build saw, for --json's status.
    extraPublishers: (c) => {
      ctx = c;
      return wiring.extraPublishers?.(c) ?? [];
    },
    table: o.table,
    logger,
    build: o.build,
    ...(o.once ? {} : { admin: o.admin }),
    ...(o.atsStatsUrl !== undefined ? { atsStatsUrl: o.atsStatsUrl } : {}),
    ...(o.atsRunroot !== undefined ? { records: { runroot: o.atsRunroot } } : {}),
    holdMs: o.batchHoldMs,
    coalesceMs: o.batchCoalesceMs,
    maxBuildShare: o.maxBuildShare,
    buildBurstMs: o.maxBuildBurstMs,
  });

  if (o.once) {
    try {
      const result = await controller.start();
      const last = controller.table.last;
      if (!last) throw new CliError('the route table was refused (see the error above); nothing was published', 1);
      const t = result.model.table;
      if (o.json) {
        const fromSource = sourceProblems?.() ?? [];
        io.out(toJson({
          generation: last.generation,
          table: o.table,
          routes: t,
          problems: [...fromSource.map((p) => ({ where: p.where, message: p.message, severity: 'Error' })), ...result.problems],
          status: ctx ? statusReport(result, ctx.snapshot(), o.build, o.publishAddresses) : {},
        }));
        return 0;
      }
      const gw = t.gateway ? `, ${t.gateway.listeners.length} Gateway listeners, ${t.gateway.listeners.reduce((n, l) => n + l.entries.length, 0)} HTTPRoute entries` : '';
      io.out(`published generation ${last.generation} to table "${o.table}": ${t.hosts.length} hosts, ${last.routes} rules${gw}, ${t.backends.length} backends, ${t.backends.reduce((n, b) => n + b.endpoints.length, 0)} endpoints`);
      // In chunks: one write per line is most of the time of a 100,000-rule summary.
      let chunk: string[] = [];
      const line = (text: string) => {
        chunk.push(text);
        if (chunk.length >= 4096) {
          io.out(chunk.join('\n'));
          chunk = [];
        }
      };
      for (const h of t.hosts) {
        for (const r of h.rules) {
          const b = t.backends[r.backend]!;
          line(`  ${h.name || '*'}${r.path} (${r.pathType}) -> ${b.service}:${b.port} [${b.endpoints.length} endpoints]`);
        }
        if (h.defaultBackend !== undefined) line(`  ${h.name || '*'} (default) -> ${t.backends[h.defaultBackend]!.service}`);
      }
      for (const l of t.gateway?.listeners ?? []) {
        line(`  Gateway ${l.gateway} listener ${l.listener} (${l.protocol} ${l.listenerPort}) on ${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}, ${l.hostname || 'any host'}: ${l.entries.length} entries`);
        for (const e of l.entries) {
          const rule = t.gateway?.rules[e.rule];
          const to = !rule ? '?' : rule.failure !== undefined ? `500 (${rule.failure})`
            : rule.choices.map((c) => (c.backend !== undefined ? `${t.backends[c.backend]!.service}:${t.backends[c.backend]!.port}` : '500') + (rule.choices.length > 1 ? ` weight ${c.weight}` : '')).join(', ') || 'no backend';
          line(`    ${e.hostname || '*'}${e.path} (${e.pathType}${e.method ? ` ${e.method}` : ''}${e.headers.length + e.queryParams.length > 0 ? `, ${e.headers.length + e.queryParams.length} header/query matches` : ''}) -> ${to} [HTTPRoute ${rule?.route ?? '?'} rule ${rule?.ruleIndex ?? '?'}]`);
        }
      }
      if (chunk.length > 0) io.out(chunk.join('\n'));
      const fromSource = sourceProblems?.() ?? [];
      const count = result.problems.length + fromSource.length;
      io.out(count === 0 ? 'no problems' : `${count} problems:`);
      for (const p of fromSource) io.out(`  ${p.where}: ${p.message}`);
      for (const p of result.problems) io.out(`  ${p.severity}: ${describeProblem(p)}`);
      return 0;
    } finally {
      await controller.stop();
    }
  }

  const stopped = new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
    signal?.addEventListener('abort', done, { once: true });
  });
  try {
    await controller.start();
    logger.info('controller running', { table: o.table, adminPort: controller.adminPort });
    await stopped;
    logger.info('stopping');
  } finally {
    await controller.stop();
  }
  return 0;
}
