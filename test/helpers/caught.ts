/**
 * The error a piece of work fails with, for tests that assert on it: the one way the suites catch
 * an error. It fails the test when the work succeeds, or fails with something that is not a `type`.
 */
import { expect } from 'vitest';

/** A class the caught error must be an instance of. */
export type ErrorClass<E> = abstract new (...args: never[]) => E;

/**
 * The error `work` throws (a function) or rejects with (a promise), checked to be a `type`
 * ({@link Error} by default).
 *
 * @example
 * ```ts
 * const error = await caught(reader.getToken('sirv-prod'), StoreError);
 * expect(error.code).toBe('NotFound');
 * expect(caught(() => secretNames('a/b')).message).toMatch(/^name: /);
 * ```
 */
export function caught<E = Error>(work: () => unknown, type?: ErrorClass<E>): E;
export function caught<E = Error>(work: PromiseLike<unknown>, type?: ErrorClass<E>): Promise<E>;
export function caught<E>(
  work: (() => unknown) | PromiseLike<unknown>,
  type: ErrorClass<E> = Error as unknown as ErrorClass<E>,
): E | Promise<E> {
  const checked = (error: unknown): E => {
    expect(error).toBeInstanceOf(type);
    return error as E;
  };
  if (typeof work === 'function') {
    let result: unknown;
    try {
      result = work();
    } catch (error) {
      return checked(error);
    }
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      throw new Error('caught: pass the promise, not a function returning one');
    }
    throw new Error('caught: expected the work to throw; it returned');
  }
  return Promise.resolve(work).then(() => {
    throw new Error('caught: expected the promise to reject; it resolved');
  }, checked);
}
