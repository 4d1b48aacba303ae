/**
 * Ingest handler event parsing: AWS-encoded keys decoded, test events ignored, one ingest id per object
 * write, and only transient failures classed as transient.
 */
import { describe, expect, it } from 'vitest';
import { isTransientError } from '#adapters/ingest/errors.ts';
import { ingestIdFor } from '#app/ingest/ingest-id.ts';
import { parseIncomingKey } from '#domain/bucket-layout.ts';
import { objectsInMessage } from '#functions/ingest/handler.ts';

// Pure parts of the ingest handler; they sit with the integration tests they serve.
describe('ingest handler event parsing', () => {
  it('decodes AWS-encoded keys and keeps version, ETag and sequencer', () => {
    const body = JSON.stringify({
      Records: [
        {
          eventName: 'ObjectCreated:CompleteMultipartUpload',
          s3: {
            bucket: { name: 'b' },
            object: {
              key: 'incoming/shop/orders+2024%2BQ1+%28final%29.csv',
              versionId: 'v1',
              eTag: 'abc',
              sequencer: '01',
            },
          },
        },
        {
          eventName: 'ObjectRemoved:Delete',
          s3: { bucket: { name: 'b' }, object: { key: 'incoming/shop/x.csv' } },
        },
        { eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'clean/x.parquet' } } },
      ],
    });
    expect(objectsInMessage(body)).toEqual([
      {
        bucket: 'b',
        key: 'incoming/shop/orders 2024+Q1 (final).csv',
        versionId: 'v1',
        eTag: 'abc',
        sequencer: '01',
      },
    ]);
  });

  it('yields nothing for the s3:TestEvent S3 sends when notifications are configured', () => {
    expect(
      objectsInMessage(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'b' })),
    ).toEqual([]);
  });

  it('derives one ingest id per object write: same event same id, new version new id, quotes ignored', () => {
    const ref = { bucket: 'b', key: 'incoming/s/a.csv', eTag: 'abc' };
    expect(ingestIdFor(ref)).toBe(ingestIdFor({ ...ref, eTag: '"abc"' }));
    expect(ingestIdFor(ref)).toMatch(/^[0-9a-f]{24}$/);
    expect(ingestIdFor(ref)).not.toBe(ingestIdFor({ ...ref, eTag: 'def' }));
    expect(ingestIdFor(ref)).not.toBe(ingestIdFor({ ...ref, key: 'incoming/s/b.csv' }));
    expect(ingestIdFor({ ...ref, versionId: 'v2' })).not.toBe(ingestIdFor({ ...ref, versionId: 'v3' }));
  });

  it('takes the source from the first folder under incoming/ and the file name from the last segment', () => {
    expect(parseIncomingKey('incoming/shop/2025/01/orders.csv.gz')).toEqual({
      source: 'shop',
      fileName: 'orders.csv.gz',
    });
    expect(parseIncomingKey('incoming/orders.csv')).toBeNull();
    expect(parseIncomingKey('incoming/shop/')).toBeNull();
    expect(parseIncomingKey('rejected/shop/x.jsonl')).toBeNull();
  });

  it('classifies throttling, 5xx and network failures as transient, and nothing else', () => {
    expect(isTransientError({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } })).toBe(true);
    expect(isTransientError({ name: 'InternalError', $metadata: { httpStatusCode: 500 } })).toBe(true);
    expect(isTransientError({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isTransientError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientError(new Error('wrapped', { cause: { code: 'ECONNRESET' } }))).toBe(true);
    expect(isTransientError({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).toBe(false);
    expect(isTransientError(new Error('Binder Error: column not found'))).toBe(false);
    expect(isTransientError('boom')).toBe(false);
  });
});
