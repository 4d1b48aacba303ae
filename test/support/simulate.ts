/**
 * Seeded simulators for the BG/NBD, MBG/NBD and Gamma-Gamma generative processes, so parameter
 * recovery tests and benchmarks are deterministic. Samplers: Marsaglia & Tsang (2000) for Gamma,
 * Beta as a ratio of Gammas, exponential waiting times for Poisson purchases.
 */

/** Deterministic uniform [0, 1) generator (mulberry32). */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function standardNormal(random: () => number): number {
  // Box–Muller; 1 − u keeps the logarithm finite.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, rate) sample. */
export function sampleGamma(random: () => number, shape: number, rate: number): number {
  if (shape < 1) {
    // Boost: Gamma(k) = Gamma(k + 1) · U^(1/k).
    return sampleGamma(random, shape + 1, rate) * (1 - random()) ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}

export function sampleBeta(random: () => number, a: number, b: number): number {
  const x = sampleGamma(random, a, 1);
  const y = sampleGamma(random, b, 1);
  return x / (x + y);
}

export interface SimulatedRfm {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
}

export interface BetaGeometricSimulation {
  r: number;
  alpha: number;
  a: number;
  b: number;
  /** Each customer's age T: a fixed value or a function drawing it. */
  T: number | ((random: () => number) => number);
  customers: number;
  seed: number;
  /** MBG/NBD: the customer may also drop out right after the first purchase. */
  dropoutAtFirstPurchase?: boolean;
}

/** (x, t_x, T) per customer from the BG/NBD (or MBG/NBD) process. */
export function simulateBetaGeometric(spec: BetaGeometricSimulation): SimulatedRfm {
  const random = createRandom(spec.seed);
  const n = spec.customers;
  const out: SimulatedRfm = { x: new Float64Array(n), tx: new Float64Array(n), T: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const T = typeof spec.T === 'number' ? spec.T : spec.T(random);
    const lambda = sampleGamma(random, spec.r, spec.alpha);
    const p = sampleBeta(random, spec.a, spec.b);
    let x = 0;
    let tx = 0;
    let alive = !(spec.dropoutAtFirstPurchase && random() < p);
    let t = 0;
    while (alive) {
      t += -Math.log(1 - random()) / lambda;
      if (t > T) break;
      x++;
      tx = t;
      if (random() < p) alive = false;
    }
    out.x[i] = x;
    out.tx[i] = tx;
    out.T[i] = T;
  }
  return out;
}

/** Mean value of x transactions per customer from the Gamma-Gamma process (0 when x = 0). */
export function simulateGammaGammaSpend(
  x: ArrayLike<number>,
  params: { p: number; q: number; v: number },
  seed: number,
): Float64Array {
  const random = createRandom(seed);
  const zbar = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const nu = sampleGamma(random, params.q, params.v);
    const count = x[i]!;
    let sum = 0;
    for (let k = 0; k < count; k++) sum += sampleGamma(random, params.p, nu);
    zbar[i] = count > 0 ? sum / count : 0;
  }
  return zbar;
}
