/**
 * Opaque pagination cursors: base64url of a small JSON object naming what is being listed and the GSI
 * sort key of the last item seen. A cursor is fully validated before use (shape, listing, run, segment,
 * sort-key format), so a tampered or truncated cursor is a 400, never a DynamoDB error. A cursor is not
 * secret: forging one only moves the start of a listing the caller may read anyway.
 *
 * A segment cursor keeps its run id, so walking a segment stays on one run even if a newer run is
 * published meanwhile: no repeats, no gaps.
 */
import * as z from 'zod';
import { ApiError } from './errors.ts';

const segmentCursorSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('segment'),
  runId: z.string().min(1).max(256),
  segment: z.string().min(1).max(100),
  // Zero-padded cents then the customer id, as written by segmentMemberKey().
  after: z.string().regex(/^\d{15}#.+$/s),
});

const playbookCursorSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('playbook'),
  runId: z.string().min(1).max(256),
  action: z.string().min(1).max(100),
  // Zero-padded cents of the value at stake then the customer id, as written by actionMemberKey().
  after: z.string().regex(/^\d{15}#.+$/s),
});

const listCursorSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('list'),
  runId: z.string().min(1).max(256),
  list: z.string().min(1).max(100),
  // Offset, zero-padded signed cents of the net CLV then the customer id, as written by listMemberKey().
  after: z.string().regex(/^\d{16}#.+$/s),
});

const ingestCursorSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('ingests'),
  // ISO timestamp then the ingest id, as written by ingestListKey().
  after: z.string().regex(/^[^#]+#.+$/s),
});

const cursorSchema = z.discriminatedUnion('kind', [
  segmentCursorSchema,
  playbookCursorSchema,
  listCursorSchema,
  ingestCursorSchema,
]);

export type SegmentCursor = z.infer<typeof segmentCursorSchema>;
export type IngestCursor = z.infer<typeof ingestCursorSchema>;
export type PlaybookCursor = z.infer<typeof playbookCursorSchema>;
export type ListCursor = z.infer<typeof listCursorSchema>;
type Cursor = z.infer<typeof cursorSchema>;

export function encodeCursor(
  cursor:
    | Omit<SegmentCursor, 'v'>
    | Omit<PlaybookCursor, 'v'>
    | Omit<ListCursor, 'v'>
    | Omit<IngestCursor, 'v'>,
): string {
  return Buffer.from(JSON.stringify({ v: 1, ...cursor }), 'utf8').toString('base64url');
}

function decodeCursor(raw: string): Cursor {
  const invalid = (why: string) =>
    new ApiError(
      400,
      'invalid_cursor',
      `query.cursor: ${why}; pass the nextCursor of the previous page unchanged`,
    );
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw invalid('not a cursor this API issued (unexpected characters)');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not a cursor this API issued (cannot be decoded)');
  }
  const parsed = cursorSchema.safeParse(json);
  if (!parsed.success) throw invalid('not a cursor this API issued (unexpected content)');
  return parsed.data;
}

/**
 * A cursor of a walk over one named listing of a run (a segment, an audience): it must be of that
 * kind and name that listing, or it is a 400 naming what it belongs to.
 */
function decodeWalkCursor<K extends 'segment' | 'playbook' | 'list'>(
  raw: string,
  kind: K,
  field: 'segment' | 'action' | 'list',
  name: string,
): Extract<Cursor, { kind: K }> {
  const cursor = decodeCursor(raw);
  if (cursor.kind !== kind) {
    throw new ApiError(400, 'invalid_cursor', 'query.cursor: this cursor belongs to another listing');
  }
  const walked = (cursor as Record<string, unknown>)[field] as string;
  if (walked !== name) {
    throw new ApiError(
      400,
      'invalid_cursor',
      `query.cursor: this cursor belongs to ${field} ${JSON.stringify(walked)}, not ${JSON.stringify(name)}`,
    );
  }
  return cursor as Extract<Cursor, { kind: K }>;
}

export function decodeSegmentCursor(raw: string, segment: string): SegmentCursor {
  return decodeWalkCursor(raw, 'segment', 'segment', segment);
}

/** A cursor of an audience walk (`GET /playbook/{action}/customers`): same rules as segment cursors. */
export function decodePlaybookCursor(raw: string, action: string): PlaybookCursor {
  return decodeWalkCursor(raw, 'playbook', 'action', action);
}

/** A cursor of a run list walk (`GET /playbook/high-value-detractors`): same rules as segment cursors. */
export function decodeListCursor(raw: string, list: string): ListCursor {
  return decodeWalkCursor(raw, 'list', 'list', list);
}

export function decodeIngestCursor(raw: string): IngestCursor {
  const cursor = decodeCursor(raw);
  if (cursor.kind !== 'ingests') {
    throw new ApiError(400, 'invalid_cursor', 'query.cursor: this cursor belongs to another listing');
  }
  return cursor;
}
