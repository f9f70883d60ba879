// The machine's cloud-init output (what runcmd and packages print while it boots), copied into the
// environment's trail so the logs stream and the terminal page show it. It is read over SSH from the
// offset reached so far, like `tail -f` across reconciler visits, and bounded per event and per start
// so a chatty machine cannot fill the database.

import type { Clock } from '../shared/clock.ts';
import { CLOUD_INIT_OUTPUT_LOG } from './driver.ts';
import type { createEnvironmentRepository } from './environment.repository.ts';
import type { Environment } from './environment.table.ts';
import { type MachineLogin, runOnMachine } from './ssh-probe.ts';

const OUTPUT_KINDS = ['machine_output', 'machine_output_truncated'] as const;

/** The log's bytes in one `machine_output` event. */
const EVENT_BYTES = 4096;
/** The log's bytes kept per start; beyond them one `machine_output_truncated` event says where the rest is. */
export const OUTPUT_TOTAL_BYTES = 256 * 1024;

const NEWLINE = 0x0a;
// Terminal escapes (colours, cursor moves) and other control characters mean nothing in a log view.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed
const CONTROL = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * The log from byte `offset` on, at most `maxBytes`. On a droplet the log is root's (0640), and the
 * template's user has passwordless sudo; a log the user can read (a local machine's) needs none.
 */
export function readCommand(path: string, offset: number, maxBytes: number): string {
  const file = `'${path.replaceAll("'", `'\\''`)}'`;
  const tail = `tail -c +${offset + 1} -- ${file}`;
  return `{ if [ -r ${file} ]; then ${tail}; else sudo -n ${tail}; fi; } 2>/dev/null | head -c ${maxBytes}`;
}

/** Moves `end` back off the middle of a UTF-8 sequence, so no character is split across events. */
function characterBoundary(bytes: Buffer, start: number, end: number) {
  let cut = end;
  while (cut > start + 1 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut;
}

/**
 * Splits newly read bytes into event texts of whole lines, each from at most `eventBytes` of the log,
 * with the byte each ends at. An unfinished last line waits for the next read unless `final`.
 */
export function splitOutput(bytes: Buffer, final: boolean, eventBytes: number): { text: string; end: number }[] {
  const pieces: { text: string; end: number }[] = [];
  const usable = final ? bytes.length : bytes.lastIndexOf(NEWLINE) + 1;
  let start = 0;
  while (start < usable) {
    let end = Math.min(start + eventBytes, usable);
    if (end < usable) {
      // Whole lines when they fit; a line longer than an event is cut at a character boundary.
      const newline = bytes.lastIndexOf(NEWLINE, end - 1);
      end = newline >= start ? newline + 1 : characterBoundary(bytes, start, end);
    }
    const text = bytes
      .subarray(start, end)
      .toString('utf8')
      .replace(/\r\n/g, '\n')
      // A carriage return redraws its line (progress bars): the line shows what came after the last one.
      .replace(/[^\n]*\r/g, '')
      .replace(CONTROL, '');
    pieces.push({ text: text.replace(/\n$/, ''), end });
    start = end;
  }
  return pieces;
}

/**
 * Copies what the machine's log gained since the last visit into the trail. `final` is the read after
 * ready, which takes an unfinished last line too. A read that fails (sshd may not answer yet) is tried
 * again on the next visit; the offset is in each event, so no line is copied twice.
 */
export async function collectMachineOutput(input: {
  repo: ReturnType<typeof createEnvironmentRepository>;
  clock: Clock;
  environment: Environment;
  login: MachineLogin;
  path: string | undefined;
  final: boolean;
}): Promise<void> {
  const { repo, clock, environment } = input;
  const path = input.path ?? CLOUD_INIT_OUTPUT_LOG;
  // Every machine (each start, and a replacement for one lost while starting) has a log of its own,
  // read from its beginning: progress counts from the events of this machine, known by when it came up.
  const machine = environment.machine_created_at?.toISOString() ?? null;
  const latest = await repo.findLatestEvent(environment.id, OUTPUT_KINDS);
  const current = latest?.detail.machine_created_at === machine ? latest : undefined;
  if (current && current.kind !== 'machine_output') return;
  const offset = Number(current?.detail.offset ?? 0);

  const insert = (kind: (typeof OUTPUT_KINDS)[number], message: string, end: number, facts = {}) =>
    repo.insertEvent({
      environment_id: environment.id,
      kind,
      from_state: environment.state,
      to_state: null,
      message,
      actor_id: null,
      client_id: null,
      // The log's byte this event reaches: the next read starts there, also on another instance.
      detail: { machine_created_at: machine, offset: end, ...facts },
      created_at: new Date(clock.now()),
    });

  const room = OUTPUT_TOTAL_BYTES - offset;
  // One byte past the room tells a log that fills it exactly from one that overflows it.
  const read = await runOnMachine(input.login, readCommand(path, offset, room + 1), room + 1);
  if (!read) return;
  const overflow = read.stdout.length > room;
  const bytes = overflow ? read.stdout.subarray(0, room) : read.stdout;
  // Cut at the limit, the log keeps whole lines: the line the limit falls in is left with the rest.
  const pieces = splitOutput(bytes, input.final && !overflow, EVENT_BYTES);
  for (const piece of pieces) await insert('machine_output', piece.text, offset + piece.end);
  const reached = offset + (pieces.at(-1)?.end ?? 0);
  if (overflow) {
    const kib = Math.round(OUTPUT_TOTAL_BYTES / 1024);
    await insert(
      'machine_output_truncated',
      `Machine output truncated after ${kib} KiB: the rest is in ${path} on the machine`,
      reached,
      // Its variable parts, for the page's words (trail-text.ts).
      { kib, path },
    );
  }
}
