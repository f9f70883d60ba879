/**
 * A value the code knows is there (a key's id from the library that generated it, a row a statement
 * just wrote): checked at run time instead of asserted to the type checker, so a broken assumption
 * fails loudly where it breaks.
 */
export function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`${what} is missing`);
  return value;
}
