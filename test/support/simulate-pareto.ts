/**
 * Seeded simulator of customers who follow the Pareto/NBD story exactly, for parameter-recovery
 * tests: λ ~ Gamma(r, rate α), μ ~ Gamma(s, rate β), lifetime τ ~ Exponential(μ), purchases a
 * Poisson process with rate λ on (0, min(τ, T)].
 */
import type { ParetoNbdParams } from '#domain/models/types.ts';
import { createRandom, sampleGamma } from './simulate.ts';

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
  const uniform = createRandom(options.seed);
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
    const lifetime = -Math.log(1 - uniform()) / mu;
    const end = Math.min(lifetime, T);
    let time = 0;
    let x = 0;
    let last = 0;
    for (;;) {
      time += -Math.log(1 - uniform()) / lambda;
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
