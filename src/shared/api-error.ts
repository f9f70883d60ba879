// Type only: the words travel as a key and its parameters, and nothing of i18n runs in here.
import type { Text } from '../i18n/translator.ts';

/**
 * An error an /api caller may see: a snake_case code, the HTTP status and a message safe to show.
 * Each domain keeps its own catalog of these; http/api-errors.ts renders them.
 *
 * `message` is the developers' English (the API's `error_description`, the logs); `says`, when a
 * page may show the error to a person, is the same refusal in the catalogs' words, translated by the
 * page's renderer.
 */
export class ApiError extends Error {
  override name = 'ApiError';

  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  readonly says?: Text;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}, says?: Text) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
    this.says = says;
  }
}
