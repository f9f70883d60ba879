import type { Command } from 'commander';
import { Session, type GlobalOptions } from './session.ts';

/** Wraps a command's action: builds the session from the global options and runs it. */
export function run<Args extends unknown[]>(action: (session: Session, ...args: Args) => Promise<void>) {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    await action(new Session(command.optsWithGlobals<GlobalOptions>()), ...(args.slice(0, -1) as Args));
  };
}

export type Run = typeof run;
