type OutboxMessage = { to: string; subject: string; text: string; sentAt: string };

/** Reads the newest sign-in code sent to `email` from the development outbox. */
export async function latestCode(baseUrl: string, email: string): Promise<string> {
  const response = await fetch(new URL('/dev/outbox', baseUrl));
  const { messages } = (await response.json()) as { messages: OutboxMessage[] };
  const message = messages.find((candidate) => candidate.to === email);
  const code = message && /\b(\d{6})\b/.exec(message.text)?.[1];
  if (!code) throw new Error(`no code in the outbox for ${email}`);
  return code;
}

export async function outboxMessages(baseUrl: string): Promise<OutboxMessage[]> {
  const response = await fetch(new URL('/dev/outbox', baseUrl));
  return ((await response.json()) as { messages: OutboxMessage[] }).messages;
}
