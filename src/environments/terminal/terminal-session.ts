import { randomUUID } from 'node:crypto';
import type ssh2 from 'ssh2';
import { type Clock, systemClock } from '../../shared/clock.ts';
import { CLOSE, type CloseReason, closeReason } from './close-codes.ts';
import { OutputRing } from './output-ring.ts';
import { ShellError, type SshTarget, connectPinned, openPty, runCommand, shellWord } from './ssh-shell.ts';

export type TerminalLimits = {
  /** Output kept for reconnects; at least 2 MiB. */
  ringBytes: number;
  /** The SSH stream pauses once even the most advanced viewer is this far behind (below ringBytes). */
  highWaterBytes: number;
  /** Bytes a viewer may have handed to its socket and not yet seen written out. */
  viewerWindowBytes: number;
  /** Largest output frame sent. */
  frameBytes: number;
  /** No input and no output for this long ends the session (see `closeIfIdle`). */
  idleMs: number;
  /** With no viewer attached, the SSH connection stays this long for a reconnect to resume. */
  detachedGraceMs: number;
  connectTimeoutMs: number;
};

export const DEFAULT_LIMITS: TerminalLimits = {
  ringBytes: 2 * 1024 * 1024,
  highWaterBytes: 1024 * 1024,
  viewerWindowBytes: 256 * 1024,
  frameBytes: 64 * 1024,
  idleMs: 30 * 60_000,
  detachedGraceMs: 5 * 60_000,
  connectTimeoutMs: 20_000,
};

/** Where a viewer's bytes go: a WebSocket in production, a plain object in unit tests. */
export interface ViewerSink {
  /** One output frame starting at `offset`; `written` runs once the socket has taken it. */
  output(offset: number, data: Buffer, written: () => void): void;
  control(message: Record<string, unknown>): void;
  close(reason: CloseReason): void;
}

export type ResumeRequest = {
  /** The session id the client saw in its last `hello`; offsets only mean something within it. */
  session?: string | undefined;
  /** The offset after the last byte the client received. */
  offset?: number | undefined;
  /** Names the client's input sequence, so a resent frame applies once across reconnects. */
  inputStream: string;
  cols: number;
  rows: number;
};

const MAX_INPUT_STREAMS = 64;

export type SessionStats = { bytesOut: number; bytesIn: number };

/**
 * One SSH connection with a PTY attached to a tmux session, shared by any number of viewers. The
 * output is numbered from 0 and the last `ringBytes` are kept; each viewer has its own cursor into
 * them, so a slow viewer lags alone; the SSH stream pauses only when every viewer is far behind.
 */
export class TerminalSession {
  readonly id = randomUUID();
  readonly ring: OutputRing;
  readonly #limits: TerminalLimits;
  readonly #client: ssh2.Client;
  readonly #stream: ssh2.ClientChannel;
  readonly #tmuxName: string | undefined;
  readonly #clock: Clock;
  readonly #viewers = new Set<Viewer>();
  readonly #lastInput = new Map<string, number>();
  readonly #onEnd: Array<(reason: CloseReason) => void> = [];
  /** Where the last viewer to leave was, so output while nobody watches is kept for its return. */
  #departedCursor = 0;
  #paused = false;
  #attachedBefore = false;
  #explaining = false;
  #ended: CloseReason | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  bytesIn = 0;
  /** When someone last typed or the machine last printed (the injected clock), for the idle rules. */
  lastActivityAt: number;

  private constructor(
    client: ssh2.Client,
    stream: ssh2.ClientChannel,
    limits: TerminalLimits,
    tmuxName: string | undefined,
    clock: Clock,
  ) {
    this.#client = client;
    this.#stream = stream;
    this.#limits = limits;
    this.#tmuxName = tmuxName;
    this.#clock = clock;
    this.lastActivityAt = clock.now();
    this.ring = new OutputRing(limits.ringBytes);
    stream.on('data', (chunk: Buffer) => this.#onOutput(chunk));
    stream.stderr.on('data', (chunk: Buffer) => this.#onOutput(chunk));
    stream.on('close', () => this.#remoteEnded(CLOSE.ended));
    client.on('close', () => this.#remoteEnded(closeReason(CLOSE.ended, 'the connection to the machine dropped')));
    client.on('error', () => {});
    this.#touch();
    this.#startGrace();
  }

  /**
   * Connects with the pinned host key and attaches to tmux session `tmux` (created when absent), or
   * runs `command` instead (tests that need a program's exact bytes, with no tmux in between).
   */
  static async open(
    target: SshTarget,
    options: {
      tmux?: string;
      command?: string;
      cols: number;
      rows: number;
      limits?: Partial<TerminalLimits>;
      clock?: Clock;
    },
  ): Promise<TerminalSession> {
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    if (limits.highWaterBytes + limits.viewerWindowBytes > limits.ringBytes) {
      throw new Error('the ring must hold the high-water mark and a viewer window');
    }
    const client = await connectPinned(target, limits.connectTimeoutMs);
    const command = options.command ?? `tmux new-session -A -s ${shellWord(options.tmux ?? 'main')}`;
    try {
      const stream = await openPty(client, command, options);
      const tmux = options.command ? undefined : (options.tmux ?? 'main');
      return new TerminalSession(client, stream, limits, tmux, options.clock ?? systemClock);
    } catch (error) {
      client.end();
      throw error instanceof ShellError ? error : new ShellError(closeReason(CLOSE.sshFailed, String(error)));
    }
  }

  get ended() {
    return this.#ended;
  }

  get viewerCount() {
    return this.#viewers.size;
  }

  get paused() {
    return this.#paused;
  }

  onEnd(listener: (reason: CloseReason) => void) {
    this.#onEnd.push(listener);
  }

  /**
   * Asked why the machine's side went away: a stop destroys the machine before any periodic check
   * notices, and "environment stopped" tells the person more than "connection dropped".
   */
  explainEnd: (() => Promise<CloseReason | undefined>) | undefined;

  #remoteEnded(fallback: CloseReason) {
    if (this.#ended || this.#explaining) return;
    this.#explaining = true;
    const explain = this.explainEnd?.().catch(() => undefined) ?? Promise.resolve(undefined);
    void explain.then((reason) => this.close(reason ?? fallback));
  }

  /** Adds a viewer; it gets `hello`, then either the missing bytes or a `redraw`, then live output. */
  attach(sink: ViewerSink, resume: ResumeRequest): Viewer {
    if (this.#ended) throw new ShellError(this.#ended);
    clearTimeout(this.#graceTimer);
    const sameSession = resume.session === this.id;
    const offset = sameSession ? resume.offset : undefined;
    const lossless = offset !== undefined && this.ring.holds(offset);
    // The first viewer of a new session starts at 0 (tmux's own first paint); anyone else whose
    // offset is gone (or from another session) gets the screen as tmux has it now.
    const fresh = resume.offset === undefined && !this.#attachedBefore && this.ring.start === 0;
    this.#attachedBefore = true;
    const cursor = lossless ? offset : fresh ? 0 : this.ring.end;
    const viewer = new Viewer(this, sink, cursor, this.#limits);
    this.#viewers.add(viewer);
    this.resize(resume.cols, resume.rows);
    sink.control({
      type: 'hello',
      session: this.id,
      offset: this.ring.end,
      ring_start: this.ring.start,
      from: cursor,
      input: this.#lastInput.get(resume.inputStream) ?? 0,
      max_frame: this.#limits.frameBytes,
    });
    if (lossless || fresh) viewer.pump();
    else void this.redraw(viewer, resume.offset);
    this.#updateFlow();
    return viewer;
  }

  /** Applies input once: a frame whose sequence number was already applied for its stream is dropped. */
  input(inputStream: string, seq: number, data: Buffer): boolean {
    if (this.#ended) return false;
    const last = this.#lastInput.get(inputStream) ?? 0;
    if (seq <= last) return false;
    this.#lastInput.delete(inputStream);
    this.#lastInput.set(inputStream, seq);
    // Forget the oldest streams first; a stream that comes back after that many others starts over.
    const oldest = this.#lastInput.keys().next().value;
    if (this.#lastInput.size > MAX_INPUT_STREAMS && oldest !== undefined) this.#lastInput.delete(oldest);
    this.bytesIn += data.length;
    this.#stream.write(data);
    this.#touch();
    return true;
  }

  resize(cols: number, rows: number) {
    if (!this.#ended) this.#stream.setWindow(rows, cols, 0, 0);
  }

  /** Ends the session for every viewer with `reason`; the tmux session on the machine lives on. */
  close(reason: CloseReason) {
    if (this.#ended) return;
    this.#ended = reason;
    clearTimeout(this.#graceTimer);
    for (const viewer of [...this.#viewers]) viewer.end(reason);
    this.#viewers.clear();
    this.#stream.removeAllListeners('data');
    this.#client.end();
    for (const listener of this.#onEnd) listener(reason);
  }

  /** @internal called by Viewer */
  detach(viewer: Viewer) {
    if (!this.#viewers.delete(viewer)) return;
    // A viewer that leaves is no reason to keep the stream paused for it.
    this.#departedCursor = Math.max(this.#departedCursor, viewer.cursor);
    if (this.#viewers.size === 0) this.#startGrace();
    this.#updateFlow();
  }

  /** @internal called by Viewer once its window has room */
  updateFlow() {
    this.#updateFlow();
  }

  #onOutput(chunk: Buffer) {
    this.ring.append(chunk);
    this.#touch();
    for (const viewer of this.#viewers) viewer.pump();
    this.#updateFlow();
  }

  /** Pauses the SSH stream while even the furthest viewer (or the one that left last) is past the high-water mark. */
  #updateFlow() {
    if (this.#ended) return;
    let lead = this.#viewers.size ? 0 : this.#departedCursor;
    for (const viewer of this.#viewers) lead = Math.max(lead, viewer.cursor);
    const behind = this.ring.end - lead;
    if (!this.#paused && behind >= this.#limits.highWaterBytes) {
      this.#paused = true;
      this.#stream.pause();
    } else if (this.#paused && behind < this.#limits.highWaterBytes / 2) {
      this.#paused = false;
      this.#stream.resume();
    }
  }

  /**
   * @internal Sends the screen as tmux holds it, instead of bytes the viewer can no longer get. The
   * cursor is already at the end, so output racing the snapshot may repeat a little, never go missing.
   */
  async redraw(viewer: Viewer, lostOffset: number | undefined) {
    viewer.holding = true;
    let screen = '';
    if (this.#tmuxName) {
      const target = shellWord(this.#tmuxName);
      const out = await runCommand(
        this.#client,
        `tmux capture-pane -p -e -t ${target} && tmux display-message -p -t ${target} '#{cursor_y} #{cursor_x}'`,
      ).catch(() => Buffer.alloc(0));
      const lines = out.toString('utf8').replace(/\n$/, '').split('\n');
      const [y, x] = (lines.pop() ?? '0 0').split(' ').map(Number);
      screen = `\x1b[H\x1b[2J${lines.join('\r\n')}\x1b[${(y ?? 0) + 1};${(x ?? 0) + 1}H`;
    }
    if (viewer.ended) return;
    viewer.sink.control({ type: 'redraw', lost_from: lostOffset ?? null, from: viewer.cursor, data: screen });
    viewer.holding = false;
    viewer.pump();
  }

  /**
   * Ends the session with 4008 once nothing was typed or printed for `idleMs` by the injected clock;
   * the hub asks at every periodic check. True when it ended it.
   */
  closeIfIdle(): boolean {
    if (this.#ended || this.#clock.now() - this.lastActivityAt < this.#limits.idleMs) return false;
    this.close(CLOSE.idle);
    return true;
  }

  #touch() {
    this.lastActivityAt = this.#clock.now();
  }

  #startGrace() {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = setTimeout(
      () => this.close(closeReason(CLOSE.ended, 'no viewer came back')),
      this.#limits.detachedGraceMs,
    ).unref();
  }
}

/** One viewer's cursor and send window over the session's ring. */
export class Viewer {
  readonly session: TerminalSession;
  readonly sink: ViewerSink;
  cursor: number;
  bytesOut = 0;
  ended = false;
  /** True while a redraw is being fetched: live output waits behind it. */
  holding = false;
  #inFlight = 0;
  readonly #limits: TerminalLimits;

  constructor(session: TerminalSession, sink: ViewerSink, cursor: number, limits: TerminalLimits) {
    this.session = session;
    this.sink = sink;
    this.cursor = cursor;
    this.#limits = limits;
  }

  /** Sends what the window allows; a viewer the ring has overtaken gets a redraw rather than a gap. */
  pump() {
    const ring = this.session.ring;
    while (!this.ended && !this.holding && this.cursor < ring.end && this.#inFlight < this.#limits.viewerWindowBytes) {
      if (this.cursor < ring.start) {
        // Only possible while another viewer kept the stream flowing: this one fell out of the ring.
        const lost = this.cursor;
        this.cursor = ring.end;
        void this.session.redraw(this, lost);
        return;
      }
      const data = ring.read(this.cursor, this.#limits.frameBytes);
      const offset = this.cursor;
      this.cursor += data.length;
      this.bytesOut += data.length;
      this.#inFlight += data.length;
      this.sink.output(offset, data, () => {
        this.#inFlight -= data.length;
        this.pump();
        this.session.updateFlow();
      });
    }
  }

  /** Leaves the session; the session stays for the next viewer. */
  detach() {
    if (this.ended) return;
    this.ended = true;
    this.session.detach(this);
  }

  /** Ends this viewer alone (its grant was revoked, its heartbeat stopped); the session stays. */
  kick(reason: CloseReason) {
    if (this.ended) return;
    this.end(reason);
    this.session.detach(this);
  }

  /** @internal the session ended: close the sink with the reason. */
  end(reason: CloseReason) {
    if (this.ended) return;
    this.ended = true;
    this.sink.close(reason);
  }
}
