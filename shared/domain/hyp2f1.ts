/**
 * Gauss hypergeometric function 2F1(a, b; c; z) for real a, b, c and real z ≤ 1.
 *
 * BTYD models evaluate it with z in [0, 1) and parameters such as r + x where x (a customer's repeat
 * purchases) can reach the thousands, so the value can overflow a double and the plain Gauss series
 * can need a huge number of terms. The evaluation therefore works in signed log space and picks, per
 * call, the representation whose series converges fastest:
 *
 * - z < 0: Pfaff, 2F1(a, b; c; z) = (1 − z)^−a 2F1(a, c − b; c; z / (z − 1)), maps z into [0, 1).
 * - 0 ≤ z ≤ 0.9: the Gauss series of either 2F1 itself or its Euler transform
 *   (1 − z)^(c − a − b) 2F1(c − a, c − b; c; z), the one with the smaller leading term ratio first.
 *   Euler matters for large parameters: 2F1(r + x, b + x; a + b + x − 1; z) from BG/NBD has terms
 *   that grow for thousands of steps, while its Euler form converges from the first term.
 * - 0.9 < z < 1: the connection formula in 1 − z (Abramowitz & Stegun 15.3.6), and its logarithmic
 *   form when c − a − b is an integer (A&S 15.3.10–15.3.12), where 15.3.6 has poles.
 * - z = 1: Gauss's theorem when c − a − b > 0.
 *
 * Every sum tracks its largest summand. When a representation cancels (an alternating series whose
 * terms dwarf the result, or the two halves of 15.3.6 nearly annihilating) the others are tried and
 * the least cancelled result wins; if every one has lost more than 11 digits the answer is NaN rather
 * than a number without correct digits. That happens only for large a, b with z < 0 and a value tiny
 * next to its terms (e.g. 2F1(50.5, 30.2; 1.5; −0.7) ≈ 5e−12), which no BTYD model evaluates.
 *
 * References: Abramowitz & Stegun, Handbook of Mathematical Functions, ch. 15; Pearson, Olver &
 * Porter (2017), "Numerical methods for the computation of the confluent and Gauss hypergeometric
 * functions", Numerical Algorithms 74.
 */
import digamma from '@stdlib/math-base-special-digamma';
import gammaln from '@stdlib/math-base-special-gammaln';

/** A real number as sign × exp(logAbs); sign 0 means the value is exactly 0. */
export interface SignedLog {
  readonly logAbs: number;
  readonly sign: -1 | 0 | 1;
}

/** Relative accuracy the series aim for. */
const EPSILON = 1e-15;
/** Gauss series run in double precision up to this z; above it, the connection formula in 1 − z. */
const CONNECTION_THRESHOLD = 0.9;
/** Safety cap: a series that has not converged by then reports failure instead of looping. */
const MAX_TERMS = 1_000_000;
/** Rescale partial sums well before they overflow a double (values up to 1e308). */
const RESCALE_ABOVE = 1e250;
const RESCALE_FACTOR = 1e-250;
const LOG_RESCALE = 250 * Math.LN10;
/** c − a − b within this of an integer takes the logarithmic (degenerate) connection formula. */
const INTEGER_TOLERANCE = 1e-9;

/** Cancellation (largest summand / result) up to which a representation is accepted without trying others. */
const ACCEPTABLE_LOSS = Math.log(1e3);
/** 1 − z below which the Gauss series needs more than ~1e5 terms (about 36 / (1 − z)). */
const SLOW_SERIES_ONE_MINUS_Z = 4e-4;
/** Cancellation accepted from the connection formula rather than summing such a slow series. */
const SLOW_SERIES_LOSS = Math.log(1e6);
/** Beyond this cancellation fewer than ~5 digits are left: the result is reported as NaN. */
const MAX_LOSS = Math.log(1e11);

/** A summed value with the magnitude of its largest summand: their ratio measures cancellation. */
interface SeriesValue extends SignedLog {
  readonly logPeak: number;
}

const NAN: SignedLog = { logAbs: Number.NaN, sign: 1 };
const ONE: SignedLog = { logAbs: 0, sign: 1 };
const ZERO: SignedLog = { logAbs: Number.NEGATIVE_INFINITY, sign: 0 };
const ZERO_TRACKED: SeriesValue = { ...ZERO, logPeak: Number.NEGATIVE_INFINITY };
const NAN_TRACKED: SeriesValue = { ...NAN, logPeak: Number.NaN };

/**
 * 2F1(a, b; c; z). Returns ±Infinity when the value exceeds a double (use `logHyp2f1` then), NaN when
 * it is undefined for real arguments (z > 1, c a non-positive integer, divergence at z = 1).
 */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  // Fast path for the common BTYD case: positive parameters, small z, direct series that cannot
  // overflow. It avoids the log-space bookkeeping and is what scoring millions of customers hits.
  if (z >= 0 && z <= 0.5 && a > 0 && b > 0 && c > 0 && (a * b * z) / c < 4) {
    const direct = plainSeries(a, b, c, z);
    if (Number.isFinite(direct)) return direct;
  }
  const value = evaluate(a, b, c, z);
  return value.sign * Math.exp(value.logAbs);
}

/** ln 2F1(a, b; c; z) for when the value overflows; NaN when 2F1 is negative or undefined. */
export function logHyp2f1(a: number, b: number, c: number, z: number): number {
  const value = evaluate(a, b, c, z);
  return value.sign > 0 ? value.logAbs : value.sign === 0 ? Number.NEGATIVE_INFINITY : Number.NaN;
}

/** 2F1(a, b; c; z) as sign × exp(logAbs): finite in log space even where the value overflows. */
export function signedLogHyp2f1(a: number, b: number, c: number, z: number): SignedLog {
  const value = evaluate(a, b, c, z);
  // Internal results carry bookkeeping fields; callers get exactly { logAbs, sign }.
  return { logAbs: value.logAbs, sign: value.sign };
}

/** Digits lost to cancellation: ln(largest summand / |result|). */
function lossOf(value: SeriesValue): number {
  return value.sign === 0 ? 0 : value.logPeak - value.logAbs;
}

function evaluate(a: number, b: number, c: number, z: number): SeriesValue {
  const value = evaluateAnyLoss(a, b, c, z);
  // Every representation cancelled (large parameters with z < 0 whose value is tiny next to its
  // terms): say so with NaN rather than return a number without correct digits.
  return lossOf(value) > MAX_LOSS ? NAN_TRACKED : value;
}

function evaluateAnyLoss(a: number, b: number, c: number, z: number): SeriesValue {
  if (Number.isNaN(a) || Number.isNaN(b) || Number.isNaN(c) || Number.isNaN(z) || z > 1) return NAN_TRACKED;
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c) || !Number.isFinite(z))
    return NAN_TRACKED;
  if (z === 0 || a === 0 || b === 0) return exact(ONE);
  const terminatesAt = Math.min(negativeIntegerOrder(a), negativeIntegerOrder(b));
  // c a non-positive integer makes (c)_n vanish: undefined unless the series stops first.
  if (isNonPositiveInteger(c) && !(terminatesAt <= -c)) return NAN_TRACKED;
  if (Number.isFinite(terminatesAt)) return polynomial(a, b, c, z, terminatesAt);
  // c = a or c = b: 2F1 collapses to a binomial series with a closed form.
  if (a === c) return exact(powerOfOneMinus(z, -b));
  if (b === c) return exact(powerOfOneMinus(z, -a));
  if (z === 1) return exact(gaussTheorem(a, b, c));
  if (z < 0) {
    // Pfaff keeping a: z/(z − 1) lies in (0, 1). Euler inside `unitInterval` covers the Pfaff form
    // keeping b, so one transformation here gives access to all four representations.
    const w = z / (z - 1);
    // 1 − w = 1/(1 − z) exactly, which keeps digits that forming 1 − w would lose when z ≪ −1.
    const inner = isNonPositiveInteger(c - b)
      ? evaluateAnyLoss(a, c - b, c, w)
      : unitInterval(a, c - b, c, w, 1 / (1 - z));
    const pfaff = scaleTracked(inner, -a * Math.log1p(-z));
    if (lossOf(pfaff) <= ACCEPTABLE_LOSS || z <= -1) return pfaff;
    // Both Pfaff forms alternate: the direct series in z (also alternating) may still cancel less.
    const direct = series(a, b, c, z);
    return direct !== null && lossOf(direct) < lossOf(pfaff) ? direct : pfaff;
  }
  return unitInterval(a, b, c, z, 1 - z);
}

/**
 * The Gauss series Σ (a)_n (b)_n / ((c)_n n!) z^n summed directly, with convergence control; only
 * meaningful for |z| < 1 (or a terminating series). Exported so tests can compare transformations
 * against it. Returns NaN when it does not converge within the term cap.
 */
export function hyp2f1Series(a: number, b: number, c: number, z: number): number {
  const value = series(a, b, c, z);
  return value === null ? Number.NaN : value.sign * Math.exp(value.logAbs);
}

/** 2F1 for 0 < z < 1 with no special parameter structure. */
function unitInterval(a: number, b: number, c: number, z: number, oneMinusZ: number): SeriesValue {
  if (z <= CONNECTION_THRESHOLD) return bestSeries(a, b, c, z);
  let connected = connectionFormula(a, b, c, oneMinusZ);
  // With a, b, c > 0 every term of the Gauss series is positive, so 2F1 > 1. The connection formula
  // can lose every digit inside its own sub-series without its loss tracking seeing it (large a, c
  // with c − a − b < 0: 2F1(998.76, 19; 999; 0.96) came out 0 instead of 3.3e26); such a result is
  // discarded for the series, which sums terms of one sign.
  if (connected !== null && a > 0 && b > 0 && c > 0 && !(connected.sign > 0 && connected.logAbs > 0)) {
    connected = null;
  }
  if (connected !== null && lossOf(connected) <= ACCEPTABLE_LOSS) return connected;
  // So close to 1 that the series would need more than ~1e5 terms: a connection result that kept
  // ten digits is the better deal; past the term cap the series cannot converge at all.
  if (
    connected !== null &&
    oneMinusZ < SLOW_SERIES_ONE_MINUS_Z &&
    (lossOf(connected) <= SLOW_SERIES_LOSS || oneMinusZ < 40 / MAX_TERMS)
  ) {
    return connected;
  }
  // The connection formula cancelled (its two terms are huge and of opposite sign, typical for
  // large parameters): the series is slower but may sum terms of one sign.
  const summed = bestSeries(a, b, c, z);
  if (connected === null || Number.isNaN(connected.logAbs)) return summed;
  if (Number.isNaN(summed.logAbs)) return connected;
  return lossOf(summed) <= lossOf(connected) ? summed : connected;
}

/**
 * The direct or the Euler-transformed Gauss series. The one with the smaller leading term ratio
 * goes first (fewer terms); if it cancels badly (an alternating series whose terms dwarf the sum),
 * the other one is tried and the less cancelled result wins.
 */
function bestSeries(a: number, b: number, c: number, z: number): SeriesValue {
  const directRatio = Math.abs((a * b) / c);
  const eulerRatio = Math.abs(((c - a) * (c - b)) / c);
  const preferEuler = eulerRatio < directRatio;
  const first = preferEuler ? eulerSeries(a, b, c, z) : series(a, b, c, z);
  if (first !== null && lossOf(first) <= ACCEPTABLE_LOSS) return first;
  const second = preferEuler ? series(a, b, c, z) : eulerSeries(a, b, c, z);
  if (first === null) return second ?? NAN_TRACKED;
  if (second === null) return first;
  return lossOf(second) < lossOf(first) ? second : first;
}

function eulerSeries(a: number, b: number, c: number, z: number): SeriesValue | null {
  const inner = series(c - a, c - b, c, z);
  return inner === null ? null : scaleTracked(inner, (c - a - b) * Math.log1p(-z));
}

/**
 * Gauss series in log-scaled double precision. Stops when the remaining tail, bounded by a geometric
 * series with ratio max(|term ratio|, |z|), is below EPSILON × |sum|; null if that never happens.
 */
function series(a: number, b: number, c: number, z: number): SeriesValue | null {
  let term = 1;
  let sum = 1;
  let peak = 1;
  let logScale = 0;
  const absZ = Math.abs(z);
  for (let n = 0; n < MAX_TERMS; n++) {
    const ratio = (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
    term *= ratio;
    sum += term;
    if (term === 0) break;
    if (Math.abs(term) > peak) peak = Math.abs(term);
    if (Math.abs(sum) > RESCALE_ABOVE || peak > RESCALE_ABOVE) {
      sum *= RESCALE_FACTOR;
      term *= RESCALE_FACTOR;
      peak *= RESCALE_FACTOR;
      logScale += LOG_RESCALE;
    }
    const absRatio = Math.abs(ratio);
    if (absRatio < 1) {
      // Past the peak the ratio tends to z monotonically; bounding it by the larger of the two keeps
      // the tail estimate honest whether it approaches z from above or from below.
      const bound = Math.max(absRatio, absZ);
      if (bound < 1 && Math.abs(term) * (bound / (1 - bound)) <= EPSILON * Math.abs(sum)) break;
    }
    if (!Number.isFinite(sum) || n === MAX_TERMS - 1) return null;
  }
  return withPeak(fromNumber(sum, logScale), Math.log(peak) + logScale);
}

/** Plain double-precision Gauss series for the fast path; NaN when not converged. */
function plainSeries(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  for (let n = 0; n < 10_000; n++) {
    const ratio = (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
    term *= ratio;
    sum += term;
    if (ratio < 1) {
      const bound = Math.max(ratio, z);
      if (term * (bound / (1 - bound)) <= EPSILON * sum) return sum;
    }
  }
  return Number.NaN;
}

/** Terminating series when a or b is a non-positive integer −m: a polynomial of degree m in z. */
function polynomial(a: number, b: number, c: number, z: number, degree: number): SeriesValue {
  if (z < -1) {
    // Keep the terminating parameter under Pfaff so the polynomial is in z/(z − 1) ∈ (1/2, 1), whose
    // terms do not grow with |z| the way the direct ones do.
    const terminating = negativeIntegerOrder(a) === degree ? a : b;
    const other = terminating === a ? b : a;
    const w = z / (z - 1);
    const inner = series(terminating, c - other, c, w) ?? NAN_TRACKED;
    return scaleTracked(inner, -terminating * Math.log1p(-z));
  }
  return series(a, b, c, z) ?? NAN_TRACKED;
}

/**
 * Connection formula z → 1 − z, for z close to 1 where the Gauss series would need ~36 / (1 − z)
 * terms. Returns null when it is not applicable (the caller falls back to the series). The result
 * carries the size of its largest part so that the caller can detect cancellation.
 */
function connectionFormula(a: number, b: number, c: number, oneMinusZ: number): SeriesValue | null {
  const m = c - a - b;
  const nearest = Math.round(m);
  const logOneMinusZ = Math.log(oneMinusZ);
  // Its finite part has |m| terms: for parameters in the millions (a fit's wild trial point) that
  // would run for hours, so such cases are left to the series and its term cap.
  if (Math.abs(nearest) > MAX_TERMS) return null;
  if (Math.abs(m - nearest) <= INTEGER_TOLERANCE) {
    // Degenerate case: A&S 15.3.11 for m ≥ 0; for m < 0 apply Euler first, which turns
    // c − a − b = −m into a positive integer (A&S 15.3.12).
    if (nearest >= 0) return logarithmicConnection(a, b, nearest, oneMinusZ);
    const inner = logarithmicConnection(c - a, c - b, -nearest, oneMinusZ);
    return inner === null ? null : scaleTracked(inner, m * logOneMinusZ);
  }
  // Close to an integer, but not within tolerance, the two terms of 15.3.6 nearly cancel (they grow
  // like 1/(m − nearest)); the loss tracking below reports it and the caller weighs it against the
  // cost of the series.
  // A&S 15.3.6: F = A · 2F1(a, b; a + b − c + 1; 1 − z) + B · (1 − z)^(c − a − b) 2F1(c − a, c − b; c − a − b + 1; 1 − z)
  const gammaC = signedLogGamma(c);
  const coefficientA = divideGammas(gammaC, signedLogGamma(m), signedLogGamma(c - a), signedLogGamma(c - b));
  const coefficientB = divideGammas(gammaC, signedLogGamma(-m), signedLogGamma(a), signedLogGamma(b));
  const first =
    coefficientA.sign === 0
      ? ZERO_TRACKED
      : multiplyTracked(coefficientA, bestSeries(a, b, 1 - m, oneMinusZ));
  const second =
    coefficientB.sign === 0
      ? ZERO_TRACKED
      : scaleTracked(
          multiplyTracked(coefficientB, bestSeries(c - a, c - b, m + 1, oneMinusZ)),
          m * logOneMinusZ,
        );
  return addTracked(first, second);
}

/**
 * A&S 15.3.10/15.3.11, c = a + b + m with m a non-negative integer:
 *   F = Γ(m)Γ(c)/(Γ(a+m)Γ(b+m)) Σ_{n<m} (a)_n (b)_n / (n! (1−m)_n) (1−z)^n
 *     − (z−1)^m Γ(c)/(Γ(a)Γ(b)) Σ_{n≥0} (a+m)_n (b+m)_n / (n! (n+m)!) (1−z)^n
 *         × [ln(1−z) − ψ(n+1) − ψ(n+m+1) + ψ(a+n+m) + ψ(b+n+m)]
 * Digamma values advance by the recurrence ψ(x + 1) = ψ(x) + 1/x, so each call evaluates ψ only four
 * times.
 */
function logarithmicConnection(a: number, b: number, m: number, oneMinusZ: number): SeriesValue | null {
  const c = a + b + m;
  const w = oneMinusZ;
  const logW = Math.log(oneMinusZ);
  const gammaC = signedLogGamma(c);

  let finitePart: SeriesValue = ZERO_TRACKED;
  if (m > 0) {
    // (a)_n (b)_n / (n! (1 − m)_n) w^n for n < m; (1 − m)_n alternates in sign and never vanishes there.
    let term = 1;
    let sum = 1;
    let peak = 1;
    for (let n = 0; n < m - 1; n++) {
      term *= (((a + n) * (b + n)) / ((n + 1) * (1 - m + n))) * w;
      sum += term;
      peak = Math.max(peak, Math.abs(term));
    }
    const coefficient = divideGammas(gammaC, signedLogGamma(m), signedLogGamma(a + m), signedLogGamma(b + m));
    finitePart = multiplyTracked(coefficient, withPeak(fromNumber(sum, 0), Math.log(peak)));
  }

  let psiN1 = digamma(1);
  let psiNM1 = digamma(m + 1);
  let psiA = digamma(a + m);
  let psiB = digamma(b + m);
  // term_n = (a+m)_n (b+m)_n / (n! (n+m)!) w^n, kept relative to its n = 0 value 1/m! (folded into
  // the coefficient below).
  let term = 1;
  let sum = 0;
  let peak = 0;
  let logScale = 0;
  let converged = false;
  for (let n = 0; n < MAX_TERMS; n++) {
    if (n > 0) {
      const k = n - 1;
      term *= (((a + m + k) * (b + m + k)) / ((k + 1) * (k + m + 1))) * w;
      psiN1 += 1 / (k + 1);
      psiNM1 += 1 / (k + m + 1);
      psiA += 1 / (a + m + k);
      psiB += 1 / (b + m + k);
    }
    const bracket = logW - psiN1 - psiNM1 + psiA + psiB;
    const contribution = term * bracket;
    sum += contribution;
    peak = Math.max(peak, Math.abs(contribution));
    if (Math.abs(sum) > RESCALE_ABOVE || peak > RESCALE_ABOVE) {
      sum *= RESCALE_FACTOR;
      term *= RESCALE_FACTOR;
      peak *= RESCALE_FACTOR;
      logScale += LOG_RESCALE;
    }
    const ratio = Math.abs(((a + m + n) * (b + m + n)) / ((n + 1) * (n + m + 1))) * w;
    if (n > 0 && ratio < 1) {
      const bound = Math.max(ratio, w);
      // The bracket can pass through 0 at one n, so the stopping test uses |term| (1 + |bracket|),
      // and the bracket's slow ln n growth gets a factor 2 of margin.
      const tail = Math.abs(term) * (1 + Math.abs(bracket)) * (bound / (1 - bound)) * 2;
      if (tail <= EPSILON * Math.abs(sum)) {
        converged = true;
        break;
      }
    }
    if (!Number.isFinite(sum)) return null;
  }
  if (!converged) return null;
  // −(z − 1)^m = −(−1)^m w^m; the 1/m! of term_0 joins Γ(c)/(Γ(a)Γ(b)).
  const coefficient = scale(divideGammas(gammaC, ONE, signedLogGamma(a), signedLogGamma(b)), -gammaln(m + 1));
  const signFactor = m % 2 === 0 ? -1 : 1;
  const infinitePart = scaleTracked(
    multiplyTracked(coefficient, withPeak(fromNumber(signFactor * sum, logScale), Math.log(peak) + logScale)),
    m * logW,
  );
  return addTracked(finitePart, infinitePart);
}

/** Gauss's theorem: 2F1(a, b; c; 1) = Γ(c)Γ(c − a − b) / (Γ(c − a)Γ(c − b)) when c − a − b > 0. */
function gaussTheorem(a: number, b: number, c: number): SignedLog {
  if (c - a - b <= 0) return NAN;
  return divideGammas(
    signedLogGamma(c),
    signedLogGamma(c - a - b),
    signedLogGamma(c - a),
    signedLogGamma(c - b),
  );
}

function powerOfOneMinus(z: number, exponent: number): SignedLog {
  return { logAbs: exponent * Math.log1p(-z), sign: 1 };
}

/** −n when x is the non-positive integer −n, +∞ otherwise. */
function negativeIntegerOrder(x: number): number {
  return isNonPositiveInteger(x) ? -x : Number.POSITIVE_INFINITY;
}

function isNonPositiveInteger(x: number): boolean {
  return x <= 0 && Number.isInteger(x);
}

/** ln|Γ(x)| with the sign of Γ(x); sign 0 stands for 1/Γ(x) = 0 at the poles x = 0, −1, −2, … */
function signedLogGamma(x: number): SignedLog {
  if (isNonPositiveInteger(x)) return { logAbs: Number.POSITIVE_INFINITY, sign: 0 };
  // Γ(x) < 0 exactly when x < 0 and floor(x) is odd.
  const sign = x > 0 || Math.floor(x) % 2 === 0 ? 1 : -1;
  return { logAbs: gammaln(x), sign };
}

/** g1 · g2 / (g3 · g4) for Gamma values; a pole in the denominator makes the quotient 0. */
function divideGammas(g1: SignedLog, g2: SignedLog, g3: SignedLog, g4: SignedLog): SignedLog {
  if (g3.sign === 0 || g4.sign === 0) return ZERO;
  if (g1.sign === 0 || g2.sign === 0) return NAN;
  const sign = (g1.sign * g2.sign * g3.sign * g4.sign) as -1 | 1;
  return { logAbs: g1.logAbs + g2.logAbs - g3.logAbs - g4.logAbs, sign };
}

function fromNumber(value: number, logScale: number): SignedLog {
  if (Number.isNaN(value)) return NAN;
  if (value === 0) return ZERO;
  return { logAbs: Math.log(Math.abs(value)) + logScale, sign: value > 0 ? 1 : -1 };
}

function scale(value: SignedLog, logFactor: number): SignedLog {
  return value.sign === 0 ? value : { logAbs: value.logAbs + logFactor, sign: value.sign };
}

function multiply(x: SignedLog, y: SignedLog): SignedLog {
  if (x.sign === 0 || y.sign === 0) return ZERO;
  return { logAbs: x.logAbs + y.logAbs, sign: (x.sign * y.sign) as -1 | 1 };
}

function add(x: SignedLog, y: SignedLog): SignedLog {
  if (x.sign === 0) return y;
  if (y.sign === 0) return x;
  const [big, small] = x.logAbs >= y.logAbs ? [x, y] : [y, x];
  const ratio = Math.exp(small.logAbs - big.logAbs);
  if (big.sign === small.sign) return { logAbs: big.logAbs + Math.log1p(ratio), sign: big.sign };
  if (ratio === 1) return ZERO;
  return { logAbs: big.logAbs + Math.log1p(-ratio), sign: big.sign };
}

function withPeak(value: SignedLog, logPeak: number): SeriesValue {
  return { logAbs: value.logAbs, sign: value.sign, logPeak };
}

function scaleTracked(value: SeriesValue, logFactor: number): SeriesValue {
  return withPeak(scale(value, logFactor), value.logPeak + logFactor);
}

function multiplyTracked(coefficient: SignedLog, value: SeriesValue): SeriesValue {
  if (coefficient.sign === 0 || value.sign === 0) return ZERO_TRACKED;
  return withPeak(multiply(coefficient, value), coefficient.logAbs + value.logPeak);
}

function addTracked(x: SeriesValue, y: SeriesValue): SeriesValue {
  return withPeak(add(x, y), Math.max(x.logPeak, y.logPeak));
}

/** A value computed without summation: no cancellation. */
function exact(value: SignedLog): SeriesValue {
  return withPeak(value, value.logAbs);
}
