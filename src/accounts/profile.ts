import { z } from 'zod';

export const NAME_MAX = 100;
export const PICTURE_URL_MAX = 2048;

const PICTURE_PROBLEM = 'Use an https:// address of a picture, like https://example.com/me.jpg.';

// Letters, marks, digits, punctuation and spaces: no control or formatting characters (bidi
// overrides, zero-width joins) that would make a name display as something it is not.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]*$/u;

const nameSchema = z
  .string()
  .trim()
  .max(NAME_MAX, { error: `Keep your name to ${NAME_MAX} characters or fewer.` })
  .regex(PRINTABLE, {
    error: 'Your name has characters that cannot be shown. Use letters, digits, spaces and punctuation.',
  });

const pictureSchema = z
  .url({ protocol: /^https$/, hostname: z.regexes.domain, error: PICTURE_PROBLEM })
  // Stored and handed to apps the way URL parsing spells it (spaces and non-ASCII percent-encoded).
  .transform((url) => new URL(url))
  .refine((url) => !url.username && !url.password, {
    error: 'The picture address must not contain a user name or password.',
  })
  .transform((url) => url.href)
  .refine((url) => url.length <= PICTURE_URL_MAX, {
    error: `The picture address is too long (at most ${PICTURE_URL_MAX} characters).`,
  });

export type Profile = { name: string | null; pictureUrl: string | null };

/**
 * What a person may say about themselves (OIDC Core 5.1 `name` and `picture`), as typed into the
 * form, or the first problem with it in words. An empty field clears the value. The picture must
 * be https: relying parties show it on their own https pages and our account page loads it, so
 * plain http would be mixed content, readable and changeable on the way.
 */
export function parseProfile(
  form: Record<string, unknown>,
): { ok: true; profile: Profile } | { ok: false; error: string } {
  const name = nameSchema.safeParse(String(form.name ?? ''));
  if (!name.success) return { ok: false, error: name.error.issues[0]?.message ?? 'Invalid name.' };
  const typedPicture = String(form.picture ?? '').trim();
  const picture = typedPicture ? pictureSchema.safeParse(typedPicture) : ({ success: true, data: null } as const);
  if (!picture.success) return { ok: false, error: picture.error.issues[0]?.message ?? 'Invalid picture.' };
  return { ok: true, profile: { name: name.data || null, pictureUrl: picture.data } };
}
