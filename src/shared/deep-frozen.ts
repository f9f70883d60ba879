/**
 * `value` with every object and array in it frozen: for a document built once and shared by every
 * server of a process, so that a caller changing its copy throws (modules are strict) instead of
 * changing every server's.
 */
export function deepFrozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFrozen(inner);
  }
  return value;
}
