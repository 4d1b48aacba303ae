/**
 * Decimal amounts → exact integer cents, without floating point. Accepted: `1234.56`, `1,234.56`,
 * `1.234,56`, `1234,56`, `1 234,56`, `1'234.56`, a sign in front (`-`, `+`, `−`) or behind (`12.50-`),
 * accounting parentheses `(12.50)`, and a currency mark before or after: a symbol (`€`, `$`, `£`,
 * `¥`, …, see {@link DEFAULT_CURRENCY_SYMBOLS}) or an ISO 4217 code (`EUR 12.50`, `12,50 eur`), which
 * names the amount's currency. More than two decimals are rounded half away from zero to the cent.
 */

export type DecimalSeparator = '.' | ',';

/** Returned instead of cents when the text is not an amount. */
export const NOT_AN_AMOUNT = Number.NaN;

/** Largest amount accepted, in cents: keeps cents a safe integer and within DECIMAL(18,2). */
export const MAX_ABS_CENTS = Number.MAX_SAFE_INTEGER;

/**
 * Currency symbols read on amounts and in currency columns. `$` is USD and `¥` JPY (the most common
 * readings; a source config can say otherwise); `kr` is left out because it is SEK, NOK, DKK or ISK.
 */
export const DEFAULT_CURRENCY_SYMBOLS: Readonly<Record<string, string>> = {
  '€': 'EUR',
  $: 'USD',
  US$: 'USD',
  '£': 'GBP',
  '¥': 'JPY',
  '₹': 'INR',
  'Fr.': 'CHF',
  zł: 'PLN',
};

/** Symbol → ISO 4217 code: the defaults, extended or overridden by `overrides` (a source config's). */
export function currencySymbolMap(overrides?: Readonly<Record<string, string>>): ReadonlyMap<string, string> {
  return new Map(Object.entries({ ...DEFAULT_CURRENCY_SYMBOLS, ...overrides }));
}

const DEFAULT_SYMBOL_MAP = currencySymbolMap();

let knownCurrencies: Set<string> | null = null;
/** ISO 4217 codes known to the runtime's ICU data. */
export function isCurrencyCode(code: string): boolean {
  knownCurrencies ??= new Set(Intl.supportedValuesOf('currency'));
  return knownCurrencies.has(code);
}

/** A symbol of `symbols` or an ISO 4217 code in any case → the code; null for anything else. */
export function currencyOfMark(mark: string, symbols: ReadonlyMap<string, string>): string | null {
  const symbol = symbols.get(mark);
  if (symbol !== undefined) return symbol;
  if (mark.length !== 3) return null;
  const code = mark.toUpperCase();
  return /^[A-Z]{3}$/.test(code) && isCurrencyCode(code) ? code : null;
}

/** What {@link parseAmountCents} found besides the cents; the caller owns and reuses it. */
export interface AmountDetail {
  /** ISO 4217 code of the currency mark on the amount, or null when it has none. */
  currency: string | null;
  /** When the text is not an amount: what is wrong, phrased to follow "is not a valid amount: ". */
  problem: string;
}

const scratchDetail: AmountDetail = { currency: null, problem: '' };

const isDigit = (c: number) => c >= 48 && c <= 57;
const isSpace = (c: number) => c === 32 || c === 0xa0 || c === 0x202f || c === 9;
const isGroupSpace = (c: number) => c === 32 || c === 0xa0 || c === 0x202f || c === 39 /* ' */;
const isMinus = (c: number) => c === 45 || c === 0x2212;
/** Characters a currency mark is made of: anything but digits, spaces, signs, parentheses and separators. */
const isMarkChar = (c: number) =>
  !(isDigit(c) || isSpace(c) || c === 45 || c === 0x2212 || c === 43 || c === 40 || c === 41) &&
  c !== 44 &&
  c !== 46 &&
  c !== 39 &&
  !Number.isNaN(c); // past the end of the text

/** Records why the text is not an amount; returns NaN. */
function fail(detail: AmountDetail, problem: string): number {
  detail.problem = problem;
  detail.currency = null;
  return NOT_AN_AMOUNT;
}

/** Reads a currency mark into `detail.currency`; returns what is wrong with it, or null. */
function takeMark(detail: AmountDetail, symbols: ReadonlyMap<string, string>, mark: string): string | null {
  const code =
    currencyOfMark(mark, symbols) ?? (mark.endsWith('.') ? currencyOfMark(mark.slice(0, -1), symbols) : null);
  if (code === null) return `'${mark}' is not a currency symbol or code`;
  if (detail.currency !== null && detail.currency !== code)
    return `it names two currencies (${detail.currency} and ${code})`;
  detail.currency = code;
  return null;
}

const groupProblem = (separator: number, decimal: DecimalSeparator) =>
  `the thousands separator '${String.fromCharCode(separator)}' must be followed by groups of three digits ` +
  `(decimal separator '${decimal}' in this file)`;

/**
 * Parses `text` (trimmed or not) with the given decimal separator. Returns cents as a safe integer,
 * or NaN when the text is not a well-formed amount. `detail`, when given, receives the currency of a
 * mark on the amount (`€`, `USD`) or, for NaN, what is wrong.
 */
export function parseAmountCents(
  text: string,
  decimal: DecimalSeparator,
  detail: AmountDetail = scratchDetail,
  symbols: ReadonlyMap<string, string> = DEFAULT_SYMBOL_MAP,
): number {
  detail.currency = null;
  const plain = parsePlainAmountCents(text, decimal === '.' ? 46 : 44);
  if (plain >= 0) return plain;
  let start = 0;
  let end = text.length;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  if (start === end) return fail(detail, 'it is empty');
  let hasDigit = false;
  for (let i = start; i < end && !hasDigit; i++) hasDigit = isDigit(text.charCodeAt(i));
  if (!hasDigit) return fail(detail, 'it has no digits');

  let signs = 0;
  let negative = false;
  let opened = false;
  let closed = false;
  // Marks, signs and an opening parenthesis may come in any order before the number: "-€ 12", "€ (12)".
  for (;;) {
    const c = text.charCodeAt(start);
    if (c === 40 /* ( */ && !opened) {
      opened = true;
      start++;
    } else if (isMinus(c) || c === 43) {
      signs++;
      negative ||= c !== 43;
      start++;
    } else if (isMarkChar(c)) {
      let markEnd = start + 1;
      while (markEnd < end && isMarkChar(text.charCodeAt(markEnd))) markEnd++;
      // "Fr." and other abbreviations end in a dot.
      if (text.charCodeAt(markEnd) === 46 && symbols.has(text.slice(start, markEnd + 1))) markEnd++;
      const problem = takeMark(detail, symbols, text.slice(start, markEnd));
      if (problem) return fail(detail, problem);
      start = markEnd;
    } else break;
    while (start < end && isSpace(text.charCodeAt(start))) start++;
  }
  // ... and after it: "12 €-", "(12.50) EUR", "12,50 kr.".
  for (;;) {
    const c = text.charCodeAt(end - 1);
    if (c === 41 /* ) */ && opened && !closed) {
      closed = true;
      end--;
    } else if (isMinus(c)) {
      signs++;
      negative = true;
      end--;
    } else if (isMarkChar(c) || (c === 46 && end - 2 >= start && isMarkChar(text.charCodeAt(end - 2)))) {
      let markStart = end - 1;
      while (markStart > start && isMarkChar(text.charCodeAt(markStart - 1))) markStart--;
      const problem = takeMark(detail, symbols, text.slice(markStart, end));
      if (problem) return fail(detail, problem);
      end = markStart;
    } else break;
    while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  }
  if (opened !== closed) return fail(detail, 'its parentheses do not match');
  if (opened) {
    signs++;
    negative = true;
  }
  if (signs > 1) return fail(detail, 'it has more than one sign');
  if (start >= end) return fail(detail, 'it has no digits');

  const decimalCode = decimal === '.' ? 46 : 44;
  const groupCode = decimal === '.' ? 44 : 46;
  let whole = 0;
  let digitsInGroup = 0;
  let groups = 0; // number of group separators seen
  let groupSeparator = -1;
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) {
      whole = whole * 10 + (c - 48);
      if (whole > MAX_ABS_CENTS / 100) return fail(detail, 'it is too large');
      digitsInGroup++;
      continue;
    }
    if (c === groupCode || isGroupSpace(c)) {
      // Thousands separators: one kind per number, first group 1–3 digits, then exactly 3 each.
      if (groupSeparator !== -1 && c !== groupSeparator) return fail(detail, 'it mixes thousands separators');
      if (groupSeparator === -1) groupSeparator = c;
      if (digitsInGroup === 0 || (groups === 0 ? digitsInGroup > 3 : digitsInGroup !== 3))
        return fail(detail, groupProblem(groupSeparator === -1 ? groupCode : groupSeparator, decimal));
      groups++;
      digitsInGroup = 0;
      continue;
    }
    if (c === decimalCode) break;
    return fail(detail, `unexpected '${text.charAt(i)}' ${i === start ? 'before' : 'after'} the digits`);
  }
  if (groups > 0 && digitsInGroup !== 3)
    return fail(detail, groupProblem(groupSeparator === -1 ? groupCode : groupSeparator, decimal));

  let cents = 0;
  if (i < end) {
    // Fraction: two digits make the cents; the third decides rounding (half away from zero).
    i++;
    const fractionStart = i;
    let roundUp = false;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (!isDigit(c)) {
        if (c === decimalCode) return fail(detail, `more than one decimal separator '${decimal}'`);
        if (c === groupCode || isGroupSpace(c))
          return fail(detail, `a thousands separator after the decimal separator '${decimal}'`);
        return fail(detail, `unexpected '${text.charAt(i)}' after the digits`);
      }
      const position = i - fractionStart;
      if (position === 0) cents += (c - 48) * 10;
      else if (position === 1) cents += c - 48;
      else if (position === 2) roundUp = c >= 53;
    }
    if (roundUp) cents += 1;
  }
  if (whole > (MAX_ABS_CENTS - cents) / 100) return fail(detail, 'it is too large');
  const total = whole * 100 + cents;
  return negative ? -total : total;
}

/**
 * Fast path for the shape most amounts have: 1 to 13 digits, the decimal separator, two digits
 * (`1234.56`). Returns the cents, or -1 for any other text (the general parser then decides; it reads
 * these the same way).
 */
function parsePlainAmountCents(text: string, decimalCode: number): number {
  const n = text.length;
  if (n < 4 || n > 16 || text.charCodeAt(n - 3) !== decimalCode) return -1;
  let whole = 0;
  for (let i = 0; i < n - 3; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    whole = whole * 10 + digit;
  }
  const tens = text.charCodeAt(n - 2) - 48;
  const ones = text.charCodeAt(n - 1) - 48;
  if (tens < 0 || tens > 9 || ones < 0 || ones > 9) return -1;
  return whole * 100 + tens * 10 + ones;
}

/**
 * The plain-shape fast path of {@link parseAmountCents} on ASCII bytes `b[start, end)`: cents, or -1
 * for any other text (then call {@link parseAmountCents} with the text; it decides). Where it returns
 * cents, {@link parseAmountCents} returns the same.
 */
export function parsePlainAmountCentsAscii(
  b: Uint8Array,
  start: number,
  end: number,
  decimal: DecimalSeparator,
): number {
  const n = end - start;
  if (n < 4 || n > 16 || b[end - 3] !== (decimal === '.' ? 46 : 44)) return -1;
  let whole = 0;
  for (let i = start; i < end - 3; i++) {
    const digit = b[i]! - 48;
    if (digit < 0 || digit > 9) return -1;
    whole = whole * 10 + digit;
  }
  const tens = b[end - 2]! - 48;
  const ones = b[end - 1]! - 48;
  if (tens < 0 || tens > 9 || ones < 0 || ones > 9) return -1;
  return whole * 100 + tens * 10 + ones;
}

/** Evidence one value gives about the file's decimal separator. */
export type DecimalEvidence = DecimalSeparator | 'ambiguous' | 'none';

/**
 * What a single value says about the decimal separator: the style under which it is a valid amount.
 * `1.234,56` and `12,5` say ","; `1,234.56` and `12.50` say "."; `1.234` or `1,234` could be either (a
 * thousands separator or three decimals); `1234` says nothing, and neither does junk (`12..5`, `abc`)
 * that is an amount in no style: its row is rejected, it does not decide for the file.
 */
export function decimalEvidence(
  text: string,
  symbols: ReadonlyMap<string, string> = DEFAULT_SYMBOL_MAP,
): DecimalEvidence {
  const asDot = parseAmountCents(text, '.', scratchDetail, symbols);
  const asComma = parseAmountCents(text, ',', scratchDetail, symbols);
  if (Number.isNaN(asDot)) return Number.isNaN(asComma) ? 'none' : ',';
  if (Number.isNaN(asComma)) return '.';
  return asDot === asComma ? 'none' : 'ambiguous';
}

/** Values of the majority style needed before a few values of the other style count as row errors. */
const MAJORITY_MIN = 10;
/**
 * Share of the sampled amounts that may show the other style and still leave the choice clear: one in
 * fifty, and always at least one (as for dates). Those rows are rejected one by one (`amount_invalid`).
 */
const MINORITY_SHARE = 0.02;

/**
 * Decides a file's decimal separator from sample amounts: the unanimous evidence, or a clear majority
 * (at least {@link MAJORITY_MIN} values, and at most one in fifty against them), else `fallback` (from
 * config), else "." when nothing points either way. Returns null when the file is ambiguous or
 * contradictory and there is no fallback — the caller reports that as a file error.
 */
export function sniffDecimalSeparator(
  samples: readonly string[],
  fallback: DecimalSeparator | undefined,
  symbols: ReadonlyMap<string, string> = DEFAULT_SYMBOL_MAP,
): { decimal: DecimalSeparator; sniffed: boolean } | { decimal: null; example: string } {
  let dots = 0;
  let commas = 0;
  let ambiguousExample: string | null = null;
  let dotExample = '';
  let commaExample = '';
  for (const sample of samples) {
    const evidence = decimalEvidence(sample, symbols);
    if (evidence === '.') {
      dots++;
      dotExample ||= sample;
    } else if (evidence === ',') {
      commas++;
      commaExample ||= sample;
    } else if (evidence === 'ambiguous') ambiguousExample ??= sample;
  }
  const few = Math.max(1, Math.floor(samples.length * MINORITY_SHARE));
  if (dots > 0 && (commas === 0 || (dots >= MAJORITY_MIN && commas <= few)))
    return { decimal: '.', sniffed: true };
  if (commas > 0 && (dots === 0 || (commas >= MAJORITY_MIN && dots <= few)))
    return { decimal: ',', sniffed: true };
  if (fallback) return { decimal: fallback, sniffed: false };
  if (dots > 0 && commas > 0) return { decimal: null, example: `'${dotExample}' and '${commaExample}'` };
  if (ambiguousExample !== null) return { decimal: null, example: `'${ambiguousExample}'` };
  return { decimal: '.', sniffed: false };
}
