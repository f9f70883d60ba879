import { z } from 'zod';

export const FACTOR_NAME_MAX = 60;

/** What a person calls one of their factors ("Work laptop"): trimmed, 1 to 60 characters. */
export const factorNameSchema = z.string().trim().min(1).max(FACTOR_NAME_MAX);

export const FACTOR_NAME_PROBLEM = `Give it a name of 1 to ${FACTOR_NAME_MAX} characters.`;
