#!/usr/bin/env node
// The ats-ingress command: dispatches to its subcommands.
import { isEntryPoint } from './entry-point.js';
import { runAtsRunroot } from './ats-runroot-command.js';
import { runController } from './controller-command.js';
import { runLookup } from './lookup-command.js';
import { runPurge } from './purge-command.js';
import { runRoutes } from './routes-command.js';
import { CliError, type Io, realIo } from './io.js';

const USAGE = `usage: ats-ingress <command> [options]

commands:
  controller   run the ingress controller (ats-ingress controller --help)
  routes       print the route table that is live
  lookup       show what the proxy would do for a request: ats-ingress lookup HOST PATH
  purge        remove one URL from this pod's ATS cache: ats-ingress purge URL
  ats-runroot  write Traffic Server's configuration for the ATS container

Run 'ats-ingress <command> --help' for a command's options.`;

async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'routes':
        return await runRoutes(rest, io);
      case 'lookup':
        return await runLookup(rest, io);
      case 'controller':
        return await runController(rest, io);
      case 'purge':
        return await runPurge(rest, io);
      case 'ats-runroot':
        return await runAtsRunroot(rest, io);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`ats-ingress: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`ats-ingress ${command}: ${err.message}`);
      return err.exitCode;
    }
    const e = err as Error & { code?: string };
    io.err(`ats-ingress ${command}: ${e.code ? `${e.code}: ` : ''}${e.message}`);
    return 1;
  }
}


if (isEntryPoint(import.meta.url)) {
  main(process.argv.slice(2), realIo).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
