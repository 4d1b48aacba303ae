/**
 * Decimal amounts → exact integer cents, without floating point. Accepted: `1234.56`, `1,234.56`,
 * `1.234,56`, `1234,56`, `1 234,56`, `1'234.56`, a sign in front (`-`, `+`, `−`) or behind (`12.50-`),
 * accounting parentheses `(12.50)`, and a currency symbol (`€`, `$`, `£`, `¥`) before or after.
 * More than two decimals are rounded half away from zero to the cent.
 */

export type DecimalSeparator = '.' | ',';

/** Returned instead of cents when the text is not an amount. */
export const NOT_AN_AMOUNT = Number.NaN;

/** Largest amount accepted, in cents: keeps cents a safe integer and within DECIMAL(18,2). */
export const MAX_ABS_CENTS = Number.MAX_SAFE_INTEGER;

const isSpace = (c: number) => c === 32 || c === 0xa0 || c === 0x202f || c === 9;
const isCurrencySymbol = (c: number) => c === 0x20ac || c === 36 || c === 0xa3 || c === 0xa5;
const isGroupSpace = (c: number) => c === 32 || c === 0xa0 || c === 0x202f || c === 39 /* ' */;

/**
 * Parses `text` (already trimmed or not) with the given decimal separator. Returns cents as a safe
 * integer, or NaN when the text is not a well-formed amount.
 */
export function parseAmountCents(text: string, decimal: DecimalSeparator): number {
  const plain = parsePlainAmountCents(text, decimal === '.' ? 46 : 44);
  if (plain >= 0) return plain;
  let start = 0;
  let end = text.length;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  if (start === end) return NOT_AN_AMOUNT;

  let negative = false;
  if (text.charCodeAt(start) === 40 /* ( */ && text.charCodeAt(end - 1) === 41 /* ) */) {
    negative = true;
    start++;
    end--;
  }
  // Symbols and signs may come in either order around the number: "-€ 12", "€-12", "12 €-".
  for (let round = 0; round < 2; round++) {
    const c = text.charCodeAt(start);
    if (isCurrencySymbol(c)) start++;
    else if (c === 45 || c === 0x2212) {
      if (negative) return NOT_AN_AMOUNT;
      negative = true;
      start++;
    } else if (c === 43) start++;
    while (start < end && isSpace(text.charCodeAt(start))) start++;
  }
  for (let round = 0; round < 2; round++) {
    const c = text.charCodeAt(end - 1);
    if (isCurrencySymbol(c)) end--;
    else if (c === 45 || c === 0x2212) {
      if (negative) return NOT_AN_AMOUNT;
      negative = true;
      end--;
    }
    while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  }
  if (start >= end) return NOT_AN_AMOUNT;

  const decimalCode = decimal === '.' ? 46 : 44;
  const groupCode = decimal === '.' ? 44 : 46;
  let whole = 0;
  let digitsInGroup = 0;
  let groups = 0; // number of group separators seen
  let groupSeparator = -1;
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      whole = whole * 10 + (c - 48);
      if (whole > MAX_ABS_CENTS / 100) return NOT_AN_AMOUNT;
      digitsInGroup++;
      continue;
    }
    if (c === groupCode || isGroupSpace(c)) {
      // Thousands separators: one kind per number, first group 1–3 digits, then exactly 3 each.
      if (groupSeparator !== -1 && c !== groupSeparator) return NOT_AN_AMOUNT;
      if (digitsInGroup === 0 || (groups === 0 ? digitsInGroup > 3 : digitsInGroup !== 3))
        return NOT_AN_AMOUNT;
      groupSeparator = c;
      groups++;
      digitsInGroup = 0;
      continue;
    }
    if (c === decimalCode) break;
    return NOT_AN_AMOUNT;
  }
  if (groups > 0 && digitsInGroup !== 3) return NOT_AN_AMOUNT;
  if (i === start && (i === end || text.charCodeAt(i) !== decimalCode)) return NOT_AN_AMOUNT;

  let cents = 0;
  if (i < end) {
    // Fraction: two digits make the cents; the third decides rounding (half away from zero).
    i++;
    const fractionStart = i;
    let roundUp = false;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return NOT_AN_AMOUNT;
      const position = i - fractionStart;
      if (position === 0) cents += (c - 48) * 10;
      else if (position === 1) cents += c - 48;
      else if (position === 2) roundUp = c >= 53;
    }
    if (i === fractionStart && whole === 0 && digitsInGroup === 0) return NOT_AN_AMOUNT; // a lone "."
    if (roundUp) cents += 1;
  }
  if (whole > (MAX_ABS_CENTS - cents) / 100) return NOT_AN_AMOUNT;
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
 * What a single value says about the decimal separator. `1.234,56` and `1234,5` say ","; `1,234.56`
 * and `12.50` say "."; `1.234` or `1,234` could be either (a thousands separator or three decimals);
 * `1234` says nothing.
 */
export function decimalEvidence(text: string): DecimalEvidence {
  const lastDot = text.lastIndexOf('.');
  const lastComma = text.lastIndexOf(',');
  if (lastDot < 0 && lastComma < 0) return 'none';
  if (lastDot >= 0 && lastComma >= 0) return lastDot > lastComma ? '.' : ',';
  const separator = lastDot >= 0 ? '.' : ',';
  const position = lastDot >= 0 ? lastDot : lastComma;
  if (text.indexOf(separator) !== position) return separator === '.' ? ',' : '.'; // repeated: grouping
  let digitsAfter = 0;
  for (let i = position + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digitsAfter++;
    else break;
  }
  if (digitsAfter === 3) return 'ambiguous';
  return separator;
}

/**
 * Decides a file's decimal separator from sample amounts: the unanimous evidence, else `fallback`
 * (from config), else "." when nothing points either way. Returns null when the file is ambiguous or
 * contradictory and there is no fallback — the caller reports that as a file error.
 */
export function sniffDecimalSeparator(
  samples: readonly string[],
  fallback: DecimalSeparator | undefined,
): { decimal: DecimalSeparator; sniffed: boolean } | { decimal: null; example: string } {
  let dots = 0;
  let commas = 0;
  let ambiguousExample: string | null = null;
  let dotExample = '';
  let commaExample = '';
  for (const sample of samples) {
    const evidence = decimalEvidence(sample);
    if (evidence === '.') {
      dots++;
      dotExample ||= sample;
    } else if (evidence === ',') {
      commas++;
      commaExample ||= sample;
    } else if (evidence === 'ambiguous') ambiguousExample ??= sample;
  }
  if (dots > 0 && commas === 0) return { decimal: '.', sniffed: true };
  if (commas > 0 && dots === 0) return { decimal: ',', sniffed: true };
  if (fallback) return { decimal: fallback, sniffed: false };
  if (dots > 0 && commas > 0) return { decimal: null, example: `'${dotExample}' and '${commaExample}'` };
  if (ambiguousExample !== null) return { decimal: null, example: `'${ambiguousExample}'` };
  return { decimal: '.', sniffed: false };
}
