import type { Logger } from 'pino';
import twilio from 'twilio';
import type { Config } from '../config.ts';
import { SmsDeliveryError, type SmsSender } from './message.ts';

// A person waits on the page while we send: a few seconds and a clear message beat a hung request.
const TIMEOUT_MS = 5000;

type TwilioSettings = NonNullable<Config['twilio']>;
type RequestOptions<TData> = Parameters<twilio.RequestClient['request']>[0] & { data?: TData };

/**
 * Twilio's client builds every URL from its own host names (api.twilio.com, or a regional one) and
 * has no base-URL option. The HTTP client is the one part it lets us supply, so with TWILIO_API_URL
 * (a stand-in in tests, or a gateway) this one keeps each request exactly as the client made it
 * (path, Basic auth, form body) and only sends it to that origin instead.
 */
class ApiUrlRequestClient extends twilio.RequestClient {
  private readonly apiUrl: URL;

  constructor(apiUrl: string, options: ConstructorParameters<typeof twilio.RequestClient>[0]) {
    super(options);
    this.apiUrl = new URL(apiUrl);
  }

  override request<TData>(options: RequestOptions<TData>) {
    const target = new URL(options.uri);
    target.protocol = this.apiUrl.protocol;
    target.host = this.apiUrl.host;
    return super.request<TData>({ ...options, uri: target.href });
  }
}

/** Text messages through Twilio's Messages API, from a number or a Messaging Service (MG...). */
export function createTwilioSms(settings: TwilioSettings, log: Logger): SmsSender {
  // No automatic retries: a retry after a 429 would keep the person waiting past the timeout.
  const httpOptions = { timeout: TIMEOUT_MS, autoRetry: false };
  const client = twilio(settings.accountSid, settings.authToken, {
    httpClient: settings.apiUrl
      ? new ApiUrlRequestClient(settings.apiUrl, httpOptions)
      : new twilio.RequestClient(httpOptions),
  });
  const sender = settings.from.startsWith('MG') ? { messagingServiceSid: settings.from } : { from: settings.from };
  return {
    async send(message) {
      try {
        await client.messages.create({ to: message.to, body: message.text, ...sender });
      } catch (error) {
        log.warn({ twilio: describeFailure(error), to: message.to }, 'sms delivery failed');
        throw new SmsDeliveryError('sms delivery failed', { cause: error });
      }
    },
  };
}

/**
 * What went wrong, without the request: the HTTP library's errors carry their request settings,
 * Basic auth header included, so logging the error object would write the auth token to the log.
 */
function describeFailure(error: unknown) {
  if (error instanceof twilio.RestException) {
    return { status: error.status, code: error.code, message: error.message, moreInfo: error.moreInfo };
  }
  const { name, message, code } = error as { name?: string; message?: string; code?: string };
  return { name, message, code };
}
