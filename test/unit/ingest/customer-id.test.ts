// The one customer id rule, and that ingest, the API and erasure all apply it.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { customerIdProblem, isValidAsciiCustomerId } from '#domain/customer-id.ts';
import { customerPathSchema } from '#functions/api/schemas.ts';
import { run as forget } from '#infra/cli/commands/forget.ts';

const wide = 'é'.repeat(129); // 129 characters, 258 UTF-8 bytes

describe('customerIdProblem', () => {
  it.each(['42', 'C-1001', 'klant.7', 'x'.repeat(256), 'é'.repeat(128), '客户 7', 'a b', '😀'.repeat(64)])(
    'accepts %j',
    (id) => expect(customerIdProblem(id)).toBeNull(),
  );

  it.each([
    ['', 'must not be empty'],
    ['x'.repeat(257), 'must be at most 256 UTF-8 bytes (it has 257)'],
    [wide, 'must be at most 256 UTF-8 bytes (it has 258)'],
    ['😀'.repeat(65), 'must be at most 256 UTF-8 bytes (it has 260)'],
    ['a/b', "must not contain '/' or '\\'"],
    ['a\\b', "must not contain '/' or '\\'"],
    ['.', "must not be '.' or '..'"],
    ['..', "must not be '.' or '..'"],
    ['a\u0000b', 'must not contain control characters'],
    ['a\nb', 'must not contain control characters'],
    ['a\u0085', 'must not contain control characters'],
    ['a\ud800', 'must not contain control characters'],
    [' 42', 'must not start or end with whitespace'],
  ])('refuses %j: %s', (id, problem) => expect(customerIdProblem(id)).toBe(problem));

  it('agrees on printable ASCII bytes', () => {
    for (const id of ['42', '.', '..', '...', 'a/b', 'a\\b', 'x'.repeat(256), 'x'.repeat(257), '']) {
      const bytes = Uint8Array.from(`[${id}]`, (c) => c.charCodeAt(0));
      expect(isValidAsciiCustomerId(bytes, 1, bytes.length - 1)).toBe(customerIdProblem(id) === null);
    }
  });
});

describe('the API and erasure use the same rule', () => {
  it('refuses a path id over 256 UTF-8 bytes even when it has fewer characters', () => {
    const parsed = customerPathSchema.safeParse({ customerId: wide });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message)).toEqual([
      'customerId must be at most 256 UTF-8 bytes (it has 258)',
    ]);
    expect(customerPathSchema.safeParse({ customerId: 'é'.repeat(128) }).success).toBe(true);
  });

  it('cvm forget refuses an invalid id before touching any data', async () => {
    const home = mkdtempSync(join(tmpdir(), 'cvm-forget-id-'));
    vi.stubEnv('CVM_HOME', home);
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
    try {
      expect(await forget([wide])).toBe(2);
      expect(await forget(['a/b'])).toBe(2);
      expect(readdirSync(home)).toEqual([]); // no stack was started
    } finally {
      vi.restoreAllMocks();
      vi.unstubAllEnvs();
      rmSync(home, { recursive: true, force: true });
    }
    expect(errors[0]).toContain('must be at most 256 UTF-8 bytes (it has 258)');
    expect(errors[1]).toContain("must not contain '/' or '\\'");
  });
});
