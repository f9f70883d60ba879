import { IncomingMessage } from 'node:http';
import { unescape as percentDecode } from 'node:querystring';
import type { Context, Middleware } from 'koa';
import type { Renderer } from './render.ts';
import { carryClientAddress } from './request-origin.ts';
import { DEFAULT_LOCALE } from '../i18n/locales.ts';
import { type Text, text, translator } from '../i18n/translator.ts';

/** The largest body any route reads (the /api and passkey JSON parsers); oidc-provider and forms take less. */
export const BODY_LIMIT_BYTES = 64 * 1024;

// Beyond this, a refused body is not read to its end: the connection is closed instead.
const DRAIN_LIMIT_BYTES = 1024 * 1024;

// The body types someone parses: our parsers (@koa/bodyparser: forms and JSON) and oidc-provider's.
// Other types are read by nobody, so nothing in them can reach a query or a log.
const PARSED_TYPES = ['urlencoded', 'json', '+json', 'application/csp-report'];

/**
 * Text we store or pass on: no NUL (Postgres text cannot hold U+0000 and refuses the whole
 * statement) and no lone surrogate (not Unicode at all: JSON columns and UTF-8 encoders refuse it).
 */
export function isCleanText(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

/** Whether any string in a parsed JSON value, key or value, at any depth, is not clean text. */
export function hasUncleanText(value: unknown): boolean {
  // Iterative: a 64 kB body can nest deeper than the call stack goes.
  const pending: unknown[] = [value];
  while (pending.length) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (!isCleanText(item)) return true;
    } else if (Array.isArray(item)) {
      pending.push(...item);
    } else if (item && typeof item === 'object') {
      for (const [key, inner] of Object.entries(item)) {
        if (!isCleanText(key)) return true;
        pending.push(inner);
      }
    }
  }
  return false;
}

/** Percent-decoding as Koa's query parser and oidc-provider do it: where that fails, byte by byte. */
function decodeComponent(text: string) {
  return percentDecode(text.replaceAll('+', ' '));
}

/** Whether a path or form text decodes to clean text; without a `%` there is nothing to decode. */
function isCleanEncoded(encoded: string) {
  return isCleanText(encoded.includes('%') ? decodeComponent(encoded) : encoded);
}

/** `says` is shown on a page in the reader's language; a program gets it in English (for developers). */
type Refusal = { status: number; code: string; says: Text };

const UNCLEAN: Refusal = {
  status: 400,
  code: 'invalid_request',
  says: text('errors.input.unclean'),
};

/**
 * The one input rule, ahead of every route and parser: no NUL and no lone surrogate in the path, the
 * query string, a header value, a form field or a JSON string; JSON bodies are well-formed objects;
 * bodies fit the largest limit. Everything downstream (our parsers, oidc-provider, the database)
 * may then assume clean text. A refusal is shaped for where the request was going: the JSON error
 * `{ error, error_description }` (RFC 6749 §5.2, which /api shares) where `answersJson` says the
 * caller is a program, else a human error page. That includes oidc-provider's authorization
 * endpoint: its client_id is unvalidated here, so we must not redirect to anything it names.
 *
 * The body is read once here and replayed to whoever parses it next, byte for byte.
 */
export function inputRule(deps: { renderer: Renderer; answersJson(ctx: Context): boolean }): Middleware {
  const refuse = async (ctx: Context, refusal: Refusal) => {
    const json = deps.answersJson(ctx) || ctx.request.is('json', '+json') || ctx.accepts('html', 'json') === 'json';
    if (json) {
      ctx.status = refusal.status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: refusal.code, error_description: translator(DEFAULT_LOCALE).t(refusal.says) };
      return;
    }
    await deps.renderer.render(
      ctx,
      'error',
      { title: text('errors.badRequest.title'), message: refusal.says },
      refusal.status,
    );
  };

  // Not an async function: a request without a body to read (every GET) goes on without one more
  // promise and microtask of its own.
  return (ctx, next) => {
    if (!isCleanEncoded(ctx.path) || !isCleanEncoded(ctx.querystring)) return refuse(ctx, UNCLEAN);
    // Node's parser already refuses a NUL in a header; this keeps the rule whole if that ever changes.
    if (ctx.req.rawHeaders.some((text) => !isCleanText(text))) return refuse(ctx, UNCLEAN);

    if (!ctx.request.is(PARSED_TYPES)) return next();
    return checkBody(ctx, next);
  };

  async function checkBody(ctx: Context, next: () => Promise<unknown>) {
    const encoding = ctx.get('content-encoding').trim().toLowerCase();
    if (encoding && encoding !== 'identity') {
      // Compressed bodies would hide their text from this rule; no client of ours compresses them.
      return refuse(ctx, {
        status: 415,
        code: 'invalid_request',
        says: text('errors.input.compressed'),
      });
    }
    const body = await readBody(ctx.req).catch(() => 'aborted' as const);
    if (body === 'aborted')
      return refuse(ctx, { status: 400, code: 'invalid_request', says: text('errors.input.unreadable') });
    if (body === 'too_large') {
      // Node discards the unread rest of a body of declared length, so a client that sent a little too
      // much gets its answer on a connection that stays usable; an endless or huge one is cut off.
      if (ctx.req.readableDidRead || ctx.request.length === undefined || ctx.request.length > DRAIN_LIMIT_BYTES)
        ctx.set('Connection', 'close');
      return refuse(ctx, {
        status: 413,
        code: 'request_too_large',
        says: text('errors.input.tooLarge', { kilobytes: BODY_LIMIT_BYTES / 1024 }),
      });
    }
    if (body.length) {
      const problem = bodyProblem(ctx, body);
      if (problem) return refuse(ctx, problem);
    }
    replayBody(ctx, body);
    return next();
  }
}

function bodyProblem(ctx: Context, body: Buffer): Refusal | undefined {
  // A raw NUL byte is refused in any charset: in UTF-16 and the rest it is part of a NUL character.
  if (body.includes(0)) return UNCLEAN;
  const decoded = body.toString('utf8');
  if (ctx.request.is('urlencoded')) return isCleanEncoded(decoded) ? undefined : UNCLEAN;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoded);
  } catch {
    return { status: 400, code: 'invalid_request', says: text('errors.input.notJson') };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    return { status: 400, code: 'invalid_request', says: text('errors.input.notObject') };
  return hasUncleanText(parsed) ? UNCLEAN : undefined;
}

/**
 * The body, or 'too_large' as soon as it (or its declared length) passes the limit; rejects when the
 * request fails or closes before its end (an aborted upload). Read with listeners rather than the
 * stream's async iterator, whose generator, end-of-stream watcher and promise per chunk cost a few
 * microseconds on every token request.
 */
function readBody(req: IncomingMessage): Promise<Buffer | 'too_large'> {
  if (Number(req.headers['content-length'] ?? 0) > BODY_LIMIT_BYTES) return Promise.resolve('too_large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT_BYTES) {
        stop();
        req.pause();
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    // A request closes after its end; closing first means the client went away mid-body.
    const onClose = () => {
      stop();
      reject(new Error('the request closed before its body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Hands the parsers downstream (ours read `ctx.req`, oidc-provider reads the request it is given)
 * a request that is the same in every respect but whose stream holds the bytes already read.
 */
function replayBody(ctx: Context, body: Buffer) {
  const original = ctx.req;
  const replay = new IncomingMessage(original.socket);
  replay.httpVersionMajor = original.httpVersionMajor;
  replay.httpVersionMinor = original.httpVersionMinor;
  replay.httpVersion = original.httpVersion;
  replay.method = original.method;
  replay.url = original.url;
  replay.headers = original.headers;
  replay.rawHeaders = original.rawHeaders;
  replay.trailers = original.trailers;
  replay.rawTrailers = original.rawTrailers;
  replay.complete = true;
  replay.push(body);
  replay.push(null);
  carryClientAddress(original, replay);
  ctx.req = replay;
  ctx.request.req = replay;
  ctx.response.req = replay;
}
