import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * JSON logs; credentials that could reach a log line by accident are redacted, each by the path it
 * would take. Not `*.code`: that is where errors keep their code (Postgres's SQLSTATE, Node's ECONNRESET,
 * Twilio's error number), which operators need. One-time codes are typed into forms and never logged
 * as such; the one way a form could reach a line is a body parser's error, which carries the raw body
 * as `err.body`. (The development outbox logs the messages it delivers, codes included, by design;
 * production sends them by SMTP and SMS.)
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'fairyid' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'err.body',
          '*.password',
          '*.client_secret',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
