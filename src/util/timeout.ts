// Bounding a wait: for calls that may hang (a command queued on a Redis that is down, a stop that
// waits on a server), so shutdowns and watchdogs finish on time.

/** `promise`, or a rejection with `makeError(message)` after `ms` (no bound when ms is undefined). */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number | undefined,
  what: string,
  makeError: (message: string) => Error = (m) => new Error(m),
): Promise<T> {
  if (ms === undefined) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(makeError(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
