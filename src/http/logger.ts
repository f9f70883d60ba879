import { pino, type Logger } from 'pino';

/** JSON logs; credentials that could reach a log line by accident are redacted. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'fairyid' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.client_secret', '*.code', '*.token'],
      censor: '[redacted]',
    },
  });
}
