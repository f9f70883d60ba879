import { z } from 'zod';
import { text } from '../i18n/translator.ts';

export const FACTOR_NAME_MAX = 60;

/** What a person calls one of their factors ("Work laptop"): trimmed, 1 to 60 characters. */
export const factorNameSchema = z.string().trim().min(1).max(FACTOR_NAME_MAX);

export const factorNameProblem = text('notices.factorName', { max: FACTOR_NAME_MAX });
