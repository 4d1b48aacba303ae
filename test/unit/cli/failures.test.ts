/**
 * How `cvm` reports a failure: one line for our own errors and for a full disk or a missing permission,
 * the stack only for what looks like a bug.
 */
import { describe, expect, it } from 'vitest';
import { describeFailure } from '#infra/cli/main.ts';
import { StackBusyError } from '#infra/local/process-lock.ts';

const systemError = (code: string, path?: string) =>
  Object.assign(new Error(`${code}: something low-level`), { code, ...(path ? { path } : {}) });

describe('describeFailure', () => {
  it('prints our errors by their message alone', () => {
    expect(describeFailure(new StackBusyError('The local stack in /x is in use'))).toBe(
      'The local stack in /x is in use',
    );
  });

  it('says what to do about a full disk or a missing permission, naming the path', () => {
    expect(describeFailure(systemError('ENOSPC', '/home/me/.cvm/s3/x'))).toBe(
      'the disk is full: free some space (or set CVM_HOME to a disk with room) and run the command again (/home/me/.cvm/s3/x)',
    );
    expect(describeFailure(systemError('EACCES'))).toMatch(/^permission denied: /);
  });

  it('keeps the stack of anything else, for a bug report', () => {
    const bug = new TypeError('x is undefined');
    expect(describeFailure(bug)).toContain('TypeError: x is undefined\n    at ');
  });
});
