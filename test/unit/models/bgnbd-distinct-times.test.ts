/**
 * The BG/NBD and MBG/NBD likelihood on summaries whose T and t_x take few distinct values (whole
 * days): the per-distinct-time path must give the per-customer sum and a gradient matching
 * central differences, as the per-row path does.
 */
import { describe, expect, it } from 'vitest';
import { betaGeometricCustomerLogLikelihood, betaGeometricLogLikelihood } from '#domain/models/bgnbd.ts';
import type { CompressedRfm } from '#domain/models/types.ts';

function fewDistinctTimes(rows: number): CompressedRfm {
  const x = new Float64Array(rows);
  const tx = new Float64Array(rows);
  const T = new Float64Array(rows);
  const weight = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    x[i] = i % 7;
    T[i] = 30 + ((i * 13) % 10) * 4;
    tx[i] = x[i] === 0 ? 0 : Math.min(T[i]!, ((i * 7) % 12) * 3);
    weight[i] = 1 + (i % 5);
  }
  return { x, tx, T, weight, length: rows };
}

describe.each([0, 1] as const)('beta-geometric likelihood with few distinct times (shift %i)', (shift) => {
  const data = fewDistinctTimes(4000);
  const params = [0.3, 5.5, 0.9, 2.2];

  it('equals the weighted sum of per-customer log-likelihoods', () => {
    let sum = 0;
    for (let i = 0; i < data.length; i++) {
      sum +=
        data.weight[i]! *
        betaGeometricCustomerLogLikelihood(
          shift,
          { r: params[0]!, alpha: params[1]!, a: params[2]!, b: params[3]! },
          data.x[i]!,
          data.tx[i]!,
          data.T[i]!,
        );
    }
    expect(Math.abs(betaGeometricLogLikelihood(shift, params, data) / sum - 1)).toBeLessThan(1e-12);
  });

  it('has the gradient of central differences', () => {
    const gradient = new Float64Array(4);
    betaGeometricLogLikelihood(shift, params, data, gradient);
    for (let k = 0; k < 4; k++) {
      const h = 1e-6 * params[k]!;
      const up = [...params];
      const down = [...params];
      up[k] = params[k]! + h;
      down[k] = params[k]! - h;
      const numeric =
        (betaGeometricLogLikelihood(shift, up, data) - betaGeometricLogLikelihood(shift, down, data)) /
        (2 * h);
      expect(Math.abs(gradient[k]! / numeric - 1)).toBeLessThan(1e-6);
    }
  });
});
