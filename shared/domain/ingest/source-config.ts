import * as z from 'zod';
import { isCurrencyCode } from './amounts.ts';
import { compileDateFormat } from './date-format.ts';
import { IngestFileError } from './ingest-file-error.ts';

/** Canonical transaction fields an export column can be mapped to. */
export const CANONICAL_COLUMNS = [
  'customer_id',
  'order_id',
  'order_ts',
  'amount',
  'currency',
  'channel',
  'quantity',
] as const;
export type CanonicalColumn = (typeof CANONICAL_COLUMNS)[number];

const isTextEncoding = (label: string) => {
  try {
    new TextDecoder(label);
    return true;
  } catch {
    return false;
  }
};

const isTimeZone = (name: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
};

const dateFormatProblem = (format: string): string | null => {
  try {
    compileDateFormat(format);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
};

const headerName = z.string().trim().min(1, 'must be the header name of a column in the export');

/**
 * Per-source settings, stored as `config/sources/<source>.json` in the bucket. Every field is optional:
 * without a config the parser maps common header names and sniffs delimiter, encoding, decimal style
 * and date format. Unknown fields are errors so that a typo (`"delimeter"`) is not silently ignored.
 */
export const sourceConfigSchema = z.strictObject({
  columns: z
    .strictObject({
      customer_id: headerName.optional(),
      order_id: headerName.optional(),
      order_ts: headerName.optional(),
      amount: headerName.optional(),
      currency: headerName.optional(),
      channel: headerName.optional(),
      quantity: headerName.optional(),
      // Optional order economics (see docs/economics.md): found by alias when not configured.
      cost: headerName.optional(),
      margin_amount: headerName.optional(),
      margin_rate: headerName.optional(),
      discount: headerName.optional(),
      shipping_cost: headerName.optional(),
      returned_amount: headerName.optional(),
      returned: headerName.optional(),
    })
    .optional()
    .describe('Canonical field → header name in the export; unmapped fields are found by header aliases'),
  delimiter: z
    .enum([',', ';', '\t', '|', 'tab'], { error: 'must be one of "," ";" "\\t" "|" (or "tab")' })
    .transform((value) => (value === 'tab' ? '\t' : value))
    .optional()
    .describe('CSV field delimiter; sniffed when absent'),
  encoding: z
    .string()
    .refine(isTextEncoding, {
      error: 'is not a text encoding this runtime knows (e.g. "utf-8", "windows-1252")',
    })
    .transform((label) => new TextDecoder(label).encoding)
    .optional()
    .describe('Text encoding; detected (BOM, UTF-8 or Windows-1252) when absent'),
  decimal: z
    .enum(['.', ','], { error: 'must be "." or ","' })
    .optional()
    .describe('Decimal separator of amounts, used when the file itself is ambiguous'),
  dateFormat: z
    .string()
    .superRefine((format, ctx) => {
      const problem = dateFormatProblem(format);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .describe('Format of non-ISO dates, e.g. "dd-MM-yyyy" or "MM/dd/yyyy HH:mm"'),
  timezone: z
    .string()
    .refine(isTimeZone, { error: 'is not an IANA time zone (e.g. "Europe/Amsterdam", "UTC")' })
    .optional()
    .describe('Time zone of dates and times without an offset; default UTC'),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, { error: 'must be a three-letter ISO 4217 code such as "EUR"' })
    .optional()
    .describe('Currency of rows without a currency column or value'),
  currencySymbols: z
    .record(
      z.string().regex(/^[^\d\s()+\-\u2212,.']{1,5}\.?$/u, {
        error: 'a symbol is 1–5 characters without digits, spaces, signs, parentheses or separators',
      }),
      z
        .string()
        .regex(/^[A-Z]{3}$/, { error: 'must be a three-letter ISO 4217 code such as "SEK"' })
        .refine(isCurrencyCode, { error: 'is not an ISO 4217 currency code' }),
    )
    .optional()
    .describe('Currency symbol → ISO 4217 code, over the defaults (e.g. {"$": "CAD", "kr": "SEK"})'),
  maxRejectRatio: z
    .number({ error: 'must be a number between 0 and 1' })
    .min(0, { error: 'must be between 0 and 1' })
    .max(1, { error: 'must be between 0 and 1' })
    .optional()
    .describe('A file with a larger share of rejected rows is quarantined; default 0.2'),
  dedupeExactRows: z
    .boolean({ error: 'must be true or false' })
    .optional()
    .describe('Collapse exactly repeated rows (counted as duplicates); default true'),
  attributeColumns: z
    .strictObject({
      customer_id: headerName.optional(),
      updated_at: headerName.optional(),
      acquired_at: headerName.optional(),
      acquisition_channel: headerName.optional(),
      acquisition_cost: headerName.optional(),
      service_contacts: headerName.optional(),
      service_cost: headerName.optional(),
      nps: headerName.optional(),
      csat: headerName.optional(),
      satisfaction: headerName.optional(),
      marketing_consent: headerName.optional(),
    })
    .optional()
    .describe(
      'Customer attributes exports (incoming/<source>/customers/): field → header name; unmapped fields are found by aliases',
    ),
  subscriptionColumns: z
    .strictObject({
      customer_id: headerName.optional(),
      subscription_id: headerName.optional(),
      plan: headerName.optional(),
      started_at: headerName.optional(),
      cancelled_at: headerName.optional(),
      fee: headerName.optional(),
      currency: headerName.optional(),
    })
    .optional()
    .describe(
      'Subscriptions exports (incoming/<source>/subscriptions/): field → header name; unmapped fields are found by aliases',
    ),
  satisfactionScale: z
    .enum(['nps', 'csat'], { error: 'must be "nps" (0–10) or "csat" (1–5)' })
    .optional()
    .describe('Scale of a generic satisfaction column in customer attributes exports'),
});

export type SourceConfig = z.output<typeof sourceConfigSchema>;

/**
 * Validates a parsed config object; `origin` (e.g. `config/sources/shop.json`) prefixes the message.
 * Every problem names its field: `config/sources/shop.json: delimiter: must be one of ...`.
 */
export function parseSourceConfig(value: unknown, origin: string): SourceConfig {
  const parsed = sourceConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      const where = path ? `${path}: ` : '';
      return `${where}unknown field ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
    }
    // A record key's own message (e.g. a currency symbol's rule) says more than "Invalid key".
    const message =
      issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    return path ? `${path}: ${message}` : message;
  });
  throw new IngestFileError('config_invalid', `${origin}: ${problems.join('; ')}`);
}

/** Parses and validates config JSON text (as read from the bucket or a `--config` file). */
export function parseSourceConfigText(text: string, origin: string): SourceConfig {
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new IngestFileError('config_invalid', `${origin}: not valid JSON (${(error as Error).message})`);
  }
  return parseSourceConfig(value, origin);
}
