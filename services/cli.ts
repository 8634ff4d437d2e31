#!/usr/bin/env node
// The `relais` command: serve (default), and the site / user / backup commands.
import { Relais } from './main.js';
import { loadConfig, CONFIG_HELP, ConfigError, errorMessage } from './shared/index.js';

const USAGE = `usage: relais <command> [options]

commands:
  serve [options]        run the appliance in the foreground (default)

options:
${CONFIG_HELP}
`;

async function serve(argv: string[]): Promise<void> {
  const config = loadConfig(argv);
  const relais = new Relais(config);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    relais.log.info('stopping', { signal });
    const force = setTimeout(() => {
      relais.log.error('stop took longer than 5 s; exiting');
      process.exit(1);
    }, 5000);
    force.unref();
    void relais.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  await relais.start();
}

async function main(): Promise<void> {
  const [command = 'serve', ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      if (command.startsWith('--')) return serve([command, ...rest]);
      throw new ConfigError(`unknown command "${command}"\n${USAGE}`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`relais: ${errorMessage(err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
