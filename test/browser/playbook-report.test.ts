/**
 * The value-playbook section of the run report in a real browser (Debian's chromium through
 * playwright-core): two weekly runs on the CDNOW sample on the local stack, the second run's stored
 * report opened without network access. The ladder shows every position with its label, a bar sized
 * by its customers and the movement since the last run; the action table shows every audience with
 * readable labels. A screenshot of the section is kept at test/artifacts/playbook-report.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportKey } from '#domain/bucket-layout.ts';
import type { RunRecord } from '#domain/run.ts';
import { runLocalRecalculation } from '#infra/local/recalc.ts';
import { type LocalStack, startLocalStack } from '#infra/local/stack.ts';
import { ingestSample } from '../integration/recalc/sample.ts';
import { PROJECT_ROOT } from '../support/cvm-up.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(PROJECT_ROOT, 'test', 'artifacts');
/** Smallest text size a reader should get on the report page, in px. */
const MIN_TEXT_PX = 12;

describe('value playbook in the run report, in chromium', { timeout: 180_000 }, () => {
  let stack: LocalStack;
  let browser: Browser | undefined;
  let run: RunRecord;
  let html: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`No chromium at ${CHROMIUM}: install it with \`apt-get install chromium\`.`);
    }
    stack = await startLocalStack();
    await ingestSample(stack);
    await runLocalRecalculation(stack, { asOf: '1998-06-23', config: { currency: 'USD', holdoutWeeks: 38 } });
    run = (
      await runLocalRecalculation(stack, {
        asOf: '1998-06-30',
        config: { currency: 'USD', holdoutWeeks: 39 },
      })
    ).record;
    const object = await stack.clients.s3.send(
      new GetObjectCommand({ Bucket: stack.config.bucket, Key: reportKey(run.runId) }),
    );
    html = await object.Body!.transformToString();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('draws the ladder and the action table with readable labels; screenshot kept', async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    const requests: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('data:') && request.url() !== 'about:blank') requests.push(request.url());
    });
    await page.setContent(html, { waitUntil: 'load' });
    const section = page.locator('section[data-section="playbook"]');
    await expect(section.count()).resolves.toBe(1);
    const playbook = run.playbook!;

    // The ladder: one labelled row per position, top rung first, off-ladder states last.
    const labels = page.locator('.ladder .rung-label');
    const expectedOrder = [...playbook.positions].reverse();
    await expect(
      labels.evaluateAll((els) => els.map((e) => e.getAttribute('data-position'))),
    ).resolves.toEqual(expectedOrder.map((p) => p.position));
    for (const [i, position] of expectedOrder.entries()) {
      const label = labels.nth(i);
      await expect(label.isVisible()).resolves.toBe(true);
      await expect(label.textContent()).resolves.toContain(position.label);
      const box = await label.boundingBox();
      expect(box!.width, position.position).toBeGreaterThan(40);
      // Bars sized by customers: a position with customers has a visible bar.
      const bar = page.locator('.ladder .bar span').nth(i);
      const barBox = await bar.boundingBox();
      if (position.customers > 0) expect(barBox!.width, position.position).toBeGreaterThan(1);
    }
    // The largest position fills its track; the others are proportional.
    const widths = await page
      .locator('.ladder .bar span')
      .evaluateAll((els) =>
        els.map(
          (e) =>
            (e as unknown as { getBoundingClientRect(): { width: number } }).getBoundingClientRect().width,
        ),
      );
    const largest = Math.max(...expectedOrder.map((p) => p.customers));
    for (const [i, position] of expectedOrder.entries()) {
      expect(widths[i]! / Math.max(...widths)).toBeCloseTo(position.customers / largest, 1);
    }
    // Movement since the last run on every row.
    const moves = await page.locator('.ladder .move').allTextContents();
    expect(moves).toHaveLength(expectedOrder.length);
    for (const move of moves) expect(move).toMatch(/↑ [\d,]+ in · ↓ [\d,]+ out · net [+-]?[\d,]+/);

    // The action table: every audience, with its header and a one-line explanation.
    const headers = await page.locator('table.actions th').allTextContents();
    expect(headers).toEqual(
      expect.arrayContaining(['Audience', 'Value at stake', 'Total cost', 'Backtest purchase lift']),
    );
    const rows = page.locator('table.actions tbody tr[data-action]');
    await expect(rows.count()).resolves.toBe(playbook.actions.length);
    for (const [i, action] of playbook.actions.entries()) {
      const cells = await rows.nth(i).locator('td').allTextContents();
      expect(cells[0]).toBe(action.action);
      expect(cells[3]).toBe(action.customers.toLocaleString('en-US'));
      const explanation = page.locator(`table.actions tr[data-explains="${action.action}"]`);
      await expect(explanation.isVisible()).resolves.toBe(true);
      await expect(explanation.textContent()).resolves.toBe(action.explanation);
    }

    // Readable: no text in the section below the minimum size, none cut off horizontally.
    const texts = await section.locator('th, td, .rung-label, .move, .num, .explain, p').evaluateAll((els) =>
      els.map((e) => {
        const element = e as unknown as {
          textContent: string | null;
          scrollWidth: number;
          clientWidth: number;
        };
        const window = globalThis as unknown as { getComputedStyle(e: unknown): { fontSize: string } };
        return {
          text: (element.textContent ?? '').trim().slice(0, 40),
          px: Number.parseFloat(window.getComputedStyle(e).fontSize),
          overflow: element.scrollWidth - element.clientWidth,
        };
      }),
    );
    expect(texts.length).toBeGreaterThan(30);
    const smallest = texts.reduce((min, t) => (t.px < min.px ? t : min));
    expect(smallest.px, `smallest text: "${smallest.text}"`).toBeGreaterThanOrEqual(MIN_TEXT_PX);
    expect(texts.filter((t) => t.overflow > 1)).toEqual([]);
    expect(requests).toEqual([]);

    mkdirSync(ARTIFACTS, { recursive: true });
    const screenshot = join(ARTIFACTS, 'playbook-report.png');
    const png = await section.screenshot({ path: screenshot });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(existsSync(screenshot)).toBe(true);
    await page.close();
  });
});
