/**
 * Seeded simulator of customers who follow the Pareto/NBD story exactly, for parameter-recovery
 * tests: λ ~ Gamma(r, rate α), μ ~ Gamma(s, rate β), lifetime τ ~ Exponential(μ), purchases a
 * Poisson process with rate λ on (0, min(τ, T)].
 */
import type { ParetoNbdParams } from '../../shared/domain/models/types.ts';

/** Small fast seeded PRNG (mulberry32): uniform in [0, 1), same sequence for the same seed. */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform in (0, 1): logs and powers of it stay finite. */
function openUniform(uniform: () => number): number {
  let u = uniform();
  while (u === 0) u = uniform();
  return u;
}

function standardNormal(uniform: () => number): number {
  // Box–Muller; one of the pair is enough here.
  return Math.sqrt(-2 * Math.log(openUniform(uniform))) * Math.cos(2 * Math.PI * uniform());
}

/** Gamma(shape, rate) by Marsaglia & Tsang (2000), with the u^(1/shape) boost for shape < 1. */
export function sampleGamma(uniform: () => number, shape: number, rate: number): number {
  if (shape < 1) return sampleGamma(uniform, shape + 1, rate) * openUniform(uniform) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const normal = standardNormal(uniform);
    const v = (1 + c * normal) ** 3;
    if (v <= 0) continue;
    const u = openUniform(uniform);
    if (Math.log(u) < 0.5 * normal * normal + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}

export interface SimulationOptions {
  customers: number;
  seed: number;
  /** Observation length per customer, e.g. a cohort spread: (i, uniform) => 26 + 13 * uniform(). */
  observationLength: (index: number, uniform: () => number) => number;
  /**
   * Round t_x and T to multiples of this (e.g. 1/7 for whole days in weeks) the way real data is
   * recorded; identical rows then compress. Default: no rounding.
   */
  resolution?: number;
}

export interface SimulatedCustomers {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  /** The latent draws, for checks beyond the likelihood. */
  lambda: Float64Array;
  mu: Float64Array;
  lifetime: Float64Array;
}

export function simulateParetoNbd(params: ParetoNbdParams, options: SimulationOptions): SimulatedCustomers {
  const uniform = seededUniform(options.seed);
  const n = options.customers;
  const out: SimulatedCustomers = {
    x: new Float64Array(n),
    tx: new Float64Array(n),
    T: new Float64Array(n),
    lambda: new Float64Array(n),
    mu: new Float64Array(n),
    lifetime: new Float64Array(n),
  };
  const round = (t: number): number =>
    options.resolution ? Math.round(t / options.resolution) * options.resolution : t;
  for (let i = 0; i < n; i++) {
    const T = round(options.observationLength(i, uniform));
    const lambda = sampleGamma(uniform, params.r, params.alpha);
    const mu = sampleGamma(uniform, params.s, params.beta);
    const lifetime = -Math.log(openUniform(uniform)) / mu;
    const end = Math.min(lifetime, T);
    let time = 0;
    let x = 0;
    let last = 0;
    for (;;) {
      time += -Math.log(openUniform(uniform)) / lambda;
      if (time > end) break;
      x += 1;
      last = time;
    }
    out.x[i] = x;
    // Rounding could put the last purchase after T; recency never exceeds age in real data.
    out.tx[i] = Math.min(round(last), T);
    out.T[i] = T;
    out.lambda[i] = lambda;
    out.mu[i] = mu;
    out.lifetime[i] = lifetime;
  }
  return out;
}
