import { z } from 'zod';
import { type Text, text } from '../i18n/translator.ts';

export const NAME_MAX = 100;
export const PICTURE_URL_MAX = 2048;

/** Each problem's words; the schemas name the problem in their issue's message. */
const PROBLEMS = {
  nameTooLong: text('notices.profile.nameTooLong', { max: NAME_MAX }),
  nameUnprintable: text('notices.profile.nameUnprintable'),
  pictureProblem: text('notices.profile.pictureProblem'),
  pictureCredentials: text('notices.profile.pictureCredentials'),
  pictureTooLong: text('notices.profile.pictureTooLong', { max: PICTURE_URL_MAX }),
} satisfies Record<string, Text>;
type Problem = keyof typeof PROBLEMS;
const problem = (name: Problem) => name;
const said = (issues: readonly { message: string }[], otherwise: Problem): Text =>
  PROBLEMS[(issues[0]?.message ?? '') as Problem] ?? PROBLEMS[otherwise];

// Letters, marks, digits, punctuation and spaces: no control or formatting characters (bidi
// overrides, zero-width joins) that would make a name display as something it is not.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]*$/u;

const nameSchema = z
  .string()
  .trim()
  .max(NAME_MAX, { error: problem('nameTooLong') })
  .regex(PRINTABLE, { error: problem('nameUnprintable') });

const pictureSchema = z
  .url({ protocol: /^https$/, hostname: z.regexes.domain, error: problem('pictureProblem') })
  // Stored and handed to apps the way URL parsing spells it (spaces and non-ASCII percent-encoded).
  .transform((url) => new URL(url))
  .refine((url) => !url.username && !url.password, { error: problem('pictureCredentials') })
  .transform((url) => url.href)
  .refine((url) => url.length <= PICTURE_URL_MAX, { error: problem('pictureTooLong') });

export type Profile = { name: string | null; pictureUrl: string | null };

/**
 * What a person may say about themselves (OIDC Core 5.1 `name` and `picture`), as typed into the
 * form, or the first problem with it in words. An empty field clears the value. The picture must
 * be https: relying parties show it on their own https pages and our account page loads it, so
 * plain http would be mixed content, readable and changeable on the way.
 */
export function parseProfile(
  form: Record<string, unknown>,
): { ok: true; profile: Profile } | { ok: false; error: Text } {
  const name = nameSchema.safeParse(String(form.name ?? ''));
  if (!name.success) return { ok: false, error: said(name.error.issues, 'nameUnprintable') };
  const typedPicture = String(form.picture ?? '').trim();
  const picture = typedPicture ? pictureSchema.safeParse(typedPicture) : ({ success: true, data: null } as const);
  if (!picture.success) return { ok: false, error: said(picture.error.issues, 'pictureProblem') };
  return { ok: true, profile: { name: name.data || null, pictureUrl: picture.data } };
}
