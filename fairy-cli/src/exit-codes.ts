/**
 * What `fairy` exits with, so scripts can tell a missing login from a missing environment.
 * Listed in `fairy --help` and the README; never renumber one.
 */
export const EXIT = {
  ok: 0,
  /** Anything else: the server refused (with its message), the network failed, a file could not be written. */
  error: 1,
  /** The command line itself: an unknown command or option, a missing or malformed argument. */
  usage: 2,
  /** Not logged in, the session ended or was revoked, the login was denied or expired, unreadable credentials. */
  auth: 3,
  /** The organization, environment, template or account named does not exist (or is not visible to you). */
  notFound: 4,
  /** Logged in, but not allowed: a missing scope or role. */
  forbidden: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  error (the server refused, the network failed, ...)
  2  usage (unknown command or option, bad argument)
  3  authentication (not logged in, session ended or revoked, login denied or expired, unreadable credentials)
  4  not found
  5  forbidden (missing scope or role)`;

/** An error meant for the person at the terminal: its message is printed as is, without a stack trace. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = EXIT.error) {
    super(message);
    this.exitCode = exitCode;
  }
}
