/**
 * Size limits that keep memory bounded whatever the file: the parser holds at most one row plus one
 * chunk, and the sniffing window, never the file.
 */

/** Bytes buffered before encoding, format, delimiter, columns, decimal style and date format are decided. */
export const SNIFF_WINDOW_BYTES = 256 * 1024;

/** A row (all its physical lines together) longer than this is rejected as `row_too_large`. */
export const MAX_ROW_CHARS = 1024 * 1024;

/** A single field longer than this is rejected as `row_too_large` (ids, dates and amounts are short). */
export const MAX_FIELD_CHARS = 64 * 1024;

/** Raw text kept in a reject record for a malformed or oversized row, so reject files stay readable. */
export const MAX_RAW_CHARS_IN_REJECT = 2000;
