/**
 * The `brickyard` command line: a thin shell over the library. Exit codes: 0 ok, 1 findings or
 * a failed check, 2 usage or input errors. Errors never print a stack trace (set
 * BRICKYARD_DEBUG=1 to see one).
 */
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
// Only light modules load up front: each command imports what it needs (Ajv, Sigstore, the
// renderers, the builders) when it runs, so `--version` and `--help` start at once.
import { BrickyardError } from '../util/errors.ts';
import { exitCodeFor } from './exit-codes.ts';
import { VERSION } from '../version.ts';
import type { Workspace } from '../workspace.ts';
import { registerAttest } from './attest-command.ts';
import { registerTune } from './tune-command.ts';
import { registerBundle } from './bundle-command.ts';
import { registerSite } from './site-command.ts';
import { registerUpgrade } from './upgrade-command.ts';
import { registerBuiltIndex } from './built-index-command.ts';
import { registerCatalogLists, registerCheck, registerRender, registerSystems, registerValidate } from './catalog-commands.ts';
import { registerBump, registerDiff, registerPlan } from './change-commands.ts';
import { registerBuild, registerRun, registerSmoke } from './build-commands.ts';
import { registerVerify } from './verify-command.ts';

import type { CommandContext, Io } from './io.ts';

export type { Io };

const processIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

export { VERSION };

/** What the site executable holds (scripts/build-sea.ts): what a secure site runs, offline. */
export const SITE_COMMANDS = ['verify', 'check-bundle', 'import', 'inventory', 'audit', 'admit', 'smoke', 'site', 'upgrade'] as const;

export interface MainOptions {
  /** Only these commands (the site executable); default every one. */
  only?: readonly string[];
}

export async function main(argv: readonly string[], io: Io = processIo, options: MainOptions = {}): Promise<number> {
  let exitCode = 0;
  const program = new Command('brickyard')
    .description(
      options.only
        ? 'Brickyard for a secure site: verify and import air-gap bundles offline under the site policy, admit, audit, smoke-test and show what the site holds'
        : 'Verified HPC container recipes: validate, plan and render them per system; build, smoke-test, sign and bundle them; verify and import them offline at a secure site',
    )
    .version(VERSION)
    .option('--root <dir>', 'the Brickyard checkout to work on (default: the repository around the current directory)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const rootOf = async (): Promise<string> => {
    const root = program.opts<{ root?: string }>().root;
    return root === undefined ? (await import('../catalog/load.ts')).findRoot() : resolve(root);
  };
  const open = async (): Promise<Workspace> => (await import('../workspace.ts')).Workspace.open(await rootOf());

  const setExit = (code: number): void => {
    exitCode = code;
  };
  registerCommands(program, { io, rootOf, open, setExit });

  if (options.only) {
    const keep = new Set(options.only);
    const commands = program.commands as Command[];
    commands.splice(0, commands.length, ...commands.filter((c) => keep.has(c.name())));
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    return reportError(e, io);
  }
}

/** Every command, in the order `--help` lists them. */
function registerCommands(program: Command, ctx: CommandContext): void {
  const { io, open, setExit } = ctx;
  registerValidate(program, ctx);
  registerCheck(program, ctx);
  registerRender(program, ctx);
  registerPlan(program, ctx);
  registerDiff(program, ctx);
  registerBump(program, ctx);
  registerBuild(program, ctx);
  registerSmoke(program, ctx);
  registerAttest(program, io, open);
  registerTune(program, io, open);
  registerBundle(program, io, open, setExit, VERSION);
  registerSystems(program, ctx);
  registerCatalogLists(program, ctx);
  registerRun(program, ctx);
  registerVerify(program, io, setExit);
  registerSite(program, io, setExit);
  registerUpgrade(program, io, VERSION);
  registerBuiltIndex(program, io, setExit);
}

const SYSTEM_ERRORS: Record<string, string> = {
  ENOSPC: 'the disk is full: free space (or give a folder on a larger disk) and run it again; an import that stops leaves the store as it was',
  EDQUOT: 'the disk quota is used up: free space (or give a folder on another disk) and run it again; an import that stops leaves the store as it was',
  EROFS: 'the file system is read-only: give a folder on a writable one',
  EACCES: 'permission denied: run as a user who may read the input and write the output folder',
  EPERM: 'operation not permitted: run as a user who may read the input and write the output folder',
  EIO: 'the disk reported an input/output error: check the medium (dmesg) and run it again',
};

function reportError(e: unknown, io: Io): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return 2; // commander already printed the message
  }
  if (e instanceof BrickyardError) {
    io.err(`brickyard: ${e.message} [${e.code}]\n`);
    if (e.hint) io.err(`  hint: ${e.hint}\n`);
    return exitCodeFor(e.code);
  }
  const system = (e as NodeJS.ErrnoException | null | undefined)?.code;
  if (system !== undefined && system in SYSTEM_ERRORS) {
    // The machine, not Brickyard: a full disk, a read-only or forbidden folder.
    io.err(`brickyard: ${(e as Error).message} [${system}]\n  hint: ${SYSTEM_ERRORS[system]}\n`);
    return 2;
  }
  io.err(`brickyard: internal error: ${(e as Partial<Error> | null | undefined)?.message ?? String(e)}\n`);
  if (process.env['BRICKYARD_DEBUG']) io.err(`${(e as Partial<Error> | null | undefined)?.stack ?? ''}\n`);
  else io.err('  hint: this is a bug in Brickyard; run again with BRICKYARD_DEBUG=1 and report the stack trace\n');
  return 2;
}
