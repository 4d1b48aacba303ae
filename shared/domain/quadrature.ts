/**
 * Adaptive Gauss–Legendre quadrature for smooth or monotone integrands on a finite interval: the
 * likelihood fallbacks integrate bounded functions whose closed forms lose accuracy in extreme
 * parameter corners.
 */

/** Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1] (Newton on P_n, from Chebyshev starts). */
function gaussLegendreRule(n: number): { nodes: Float64Array; weights: Float64Array } {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 1;
    for (let iteration = 0; iteration < 100; iteration++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      derivative = (n * (x * p1 - p0)) / (x * x - 1);
      const step = p1 / derivative;
      x -= step;
      if (Math.abs(step) < 1e-16) break;
    }
    const weight = 2 / ((1 - x * x) * derivative * derivative);
    nodes[i] = -x;
    nodes[n - 1 - i] = x;
    weights[i] = weight;
    weights[n - 1 - i] = weight;
  }
  return { nodes, weights };
}

const RULE = gaussLegendreRule(16);

function fixedRule(f: (x: number) => number, a: number, b: number): number {
  const half = (b - a) / 2;
  const middle = (a + b) / 2;
  let sum = 0;
  for (let i = 0; i < RULE.nodes.length; i++) sum += RULE.weights[i]! * f(middle + half * RULE.nodes[i]!);
  return sum * half;
}

/**
 * ∫_a^b f by 16-point Gauss–Legendre panels: the panel whose halves disagree most with it is halved
 * until the summed disagreement is within `relativeTolerance` of the total (or `absoluteTolerance`),
 * or `maxPanels` panels are in use — a budget, so a step or a kink in the integrand costs a bounded
 * number of evaluations instead of refining forever.
 */
export function integrate(
  f: (x: number) => number,
  a: number,
  b: number,
  relativeTolerance = 1e-13,
  absoluteTolerance = 0,
  maxPanels = 256,
): number {
  if (!(b > a)) return 0;
  interface Panel {
    lo: number;
    hi: number;
    value: number;
    error: number;
  }
  const evaluate = (lo: number, hi: number): Panel => {
    const middle = (lo + hi) / 2;
    const value = fixedRule(f, lo, middle) + fixedRule(f, middle, hi);
    const error = middle > lo && middle < hi ? Math.abs(value - fixedRule(f, lo, hi)) : 0;
    return { lo, hi, value, error: Number.isFinite(error) ? error : 0 };
  };
  const panels = [evaluate(a, b)];
  for (;;) {
    let total = 0;
    let error = 0;
    let worst = 0;
    for (let i = 0; i < panels.length; i++) {
      total += panels[i]!.value;
      error += panels[i]!.error;
      if (panels[i]!.error > panels[worst]!.error) worst = i;
    }
    if (error <= Math.max(relativeTolerance * Math.abs(total), absoluteTolerance)) return total;
    if (panels.length >= maxPanels || panels[worst]!.error === 0) return total;
    const { lo, hi } = panels[worst]!;
    const middle = (lo + hi) / 2;
    panels.splice(worst, 1, evaluate(lo, middle), evaluate(middle, hi));
  }
}
