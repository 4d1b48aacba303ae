/**
 * Unconstrained minimisation by BFGS with a strong-Wolfe line search (Nocedal & Wright 2006,
 * algorithms 3.5/3.6 with cubic interpolation in the zoom phase).
 *
 * Written here rather than taken from a library because the model fits need three things few JS
 * optimisers give together: an objective that returns value and gradient from one pass over the
 * data (the expensive part), robustness to non-finite values at wild trial points (the line search
 * shrinks instead of failing), and a numeric Hessian for standard errors.
 */

/**
 * Objective: returns f(x); when `gradient` is given it must also write ∇f(x) into it.
 * A non-finite return value marks x as infeasible; the line search then backs off.
 */
export type Objective = (x: Float64Array, gradient?: Float64Array) => number;

export interface MinimizeOptions {
  /** Stop when the largest absolute gradient component is at or below this. Default 1e-7. */
  gradientTolerance?: number;
  /** Default 500. */
  maxIterations?: number;
  /** Set when `objective` cannot fill the gradient: central differences are used instead. */
  numericGradient?: boolean;
  /**
   * Also stop (converged) when an iteration improves f by less than this relative amount while
   * the gradient norm is within 1000 × gradientTolerance: the objective is flat to rounding.
   * Default 1e-15.
   */
  relativeFunctionTolerance?: number;
  /**
   * Initial inverse-Hessian approximation (n × n, row-major), e.g. from a fit of the same model on
   * a subsample: with it BFGS takes near-Newton steps from the first iteration. Default: identity,
   * rescaled after the first step.
   */
  initialInverseHessian?: ArrayLike<number>;
  /**
   * Largest change of any coordinate in one step (the line search never tries a point further
   * away). On log-parameters this bounds each step to a factor e^maxStep, so one wild quasi-Newton
   * step cannot throw a parameter from 1 to 1e19. Default: unbounded.
   */
  maxStep?: number;
}

export interface MinimizeResult {
  x: Float64Array;
  value: number;
  gradient: Float64Array;
  /** Largest absolute gradient component at `x`. */
  gradientNorm: number;
  converged: boolean;
  iterations: number;
  /** Objective evaluations, numeric-gradient evaluations included. */
  evaluations: number;
  /** Final BFGS inverse-Hessian approximation (n × n, row-major). */
  inverseHessian: Float64Array;
  /** Why the iteration stopped, for error messages. */
  reason: 'gradient' | 'flat' | 'max-iterations' | 'line-search' | 'non-finite-start';
}

function infNorm(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!);
    if (a > m || Number.isNaN(a)) m = a;
  }
  return m;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Central-difference gradient of `f` at `x` (2n evaluations). */
export function numericGradient(f: (x: Float64Array) => number, x: Float64Array, out: Float64Array): void {
  const probe = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    const h = 1e-6 * Math.max(1, Math.abs(x[i]!));
    probe[i] = x[i]! + h;
    const up = f(probe);
    probe[i] = x[i]! - h;
    const down = f(probe);
    probe[i] = x[i]!;
    out[i] = (up - down) / (2 * h);
  }
}

/**
 * Hessian by finite differences of the gradient, symmetrised. `gradientOf(x, out)` writes ∇f(x).
 * With `gradientAtX` (∇f(x), already known) it uses forward differences: n gradient evaluations
 * instead of 2n, at a relative accuracy (~1e−5) that is ample for standard errors.
 */
export function numericHessian(
  gradientOf: (x: Float64Array, out: Float64Array) => void,
  x: Float64Array,
  gradientAtX?: Float64Array,
): Float64Array[] {
  const n = x.length;
  const hessian = Array.from({ length: n }, () => new Float64Array(n));
  const probe = Float64Array.from(x);
  const up = new Float64Array(n);
  const down = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const h = 1e-5 * Math.max(1, Math.abs(x[j]!));
    probe[j] = x[j]! + h;
    gradientOf(probe, up);
    if (gradientAtX) {
      probe[j] = x[j]!;
      for (let i = 0; i < n; i++) hessian[i]![j] = (up[i]! - gradientAtX[i]!) / h;
      continue;
    }
    probe[j] = x[j]! - h;
    gradientOf(probe, down);
    probe[j] = x[j]!;
    for (let i = 0; i < n; i++) hessian[i]![j] = (up[i]! - down[i]!) / (2 * h);
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const s = (hessian[i]![j]! + hessian[j]![i]!) / 2;
      hessian[i]![j] = s;
      hessian[j]![i] = s;
    }
  }
  return hessian;
}

/** Inverse of a symmetric positive-definite matrix by Cholesky; null when it is not positive definite. */
export function invertSymmetricPositiveDefinite(matrix: readonly Float64Array[]): Float64Array[] | null {
  const n = matrix.length;
  const l = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = matrix[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      if (i === j) {
        if (!(s > 0)) return null;
        l[i]![i] = Math.sqrt(s);
      } else {
        l[i]![j] = s / l[j]![j]!;
      }
    }
  }
  // Solve L Lᵀ X = I column by column.
  const inverse = Array.from({ length: n }, () => new Float64Array(n));
  const y = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    for (let i = 0; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= l[i]![k]! * y[k]!;
      y[i] = s / l[i]![i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let k = i + 1; k < n; k++) s -= l[k]![i]! * inverse[k]![c]!;
      inverse[i]![c] = s / l[i]![i]!;
    }
  }
  return inverse;
}

interface LinePoint {
  alpha: number;
  value: number;
  slope: number;
}

/** Minimiser of the cubic through two points with values and slopes, clamped into [lo, hi]. */
function cubicMinimizer(p: LinePoint, q: LinePoint, lo: number, hi: number): number {
  const d1 = p.slope + q.slope - (3 * (p.value - q.value)) / (p.alpha - q.alpha);
  const disc = d1 * d1 - p.slope * q.slope;
  let next: number;
  if (disc >= 0 && Number.isFinite(disc)) {
    const d2 = Math.sign(q.alpha - p.alpha) * Math.sqrt(disc);
    next = q.alpha - (q.alpha - p.alpha) * ((q.slope + d2 - d1) / (q.slope - p.slope + 2 * d2));
  } else {
    next = (p.alpha + q.alpha) / 2;
  }
  // Keep away from the ends so the bracket always shrinks.
  const margin = 0.1 * (hi - lo);
  if (!Number.isFinite(next) || next < lo + margin || next > hi - margin) next = (lo + hi) / 2;
  return next;
}

/**
 * Minimises `objective` from `start`. Never throws for a bad objective: the result says whether it
 * converged and why it stopped; callers decide how to report it.
 */
export function minimize(
  objective: Objective,
  start: ArrayLike<number>,
  options: MinimizeOptions = {},
): MinimizeResult {
  const n = start.length;
  const gtol = options.gradientTolerance ?? 1e-7;
  const maxIterations = options.maxIterations ?? 500;
  const ftol = options.relativeFunctionTolerance ?? 1e-15;
  let evaluations = 0;

  const evaluate = (x: Float64Array, gradient: Float64Array): number => {
    if (options.numericGradient) {
      const f = objective(x);
      evaluations += 1 + 2 * n;
      if (Number.isFinite(f)) numericGradient((p) => objective(p), x, gradient);
      return f;
    }
    evaluations++;
    return objective(x, gradient);
  };

  let x = Float64Array.from(start);
  let g = new Float64Array(n);
  let f = evaluate(x, g);
  if (!Number.isFinite(f) || !Number.isFinite(infNorm(g))) {
    return {
      x,
      value: f,
      gradient: g,
      gradientNorm: infNorm(g),
      converged: false,
      iterations: 0,
      evaluations,
      inverseHessian: new Float64Array(n * n),
      reason: 'non-finite-start',
    };
  }

  // Inverse Hessian approximation, row-major n × n; starts as identity and is rescaled after step 1.
  const h = new Float64Array(n * n);
  const givenInverseHessian = options.initialInverseHessian;
  if (givenInverseHessian && givenInverseHessian.length !== n * n) {
    throw new RangeError(
      `initialInverseHessian must have ${n * n} entries, got ${givenInverseHessian.length}`,
    );
  }
  if (givenInverseHessian) h.set(givenInverseHessian);
  else for (let i = 0; i < n; i++) h[i * n + i] = 1;
  const direction = new Float64Array(n);
  const trialX = new Float64Array(n);
  const trialG = new Float64Array(n);
  const s = new Float64Array(n);
  const y = new Float64Array(n);
  const hy = new Float64Array(n);

  let iterations = 0;
  let reason: MinimizeResult['reason'] = 'max-iterations';

  while (iterations < maxIterations) {
    const gnorm = infNorm(g);
    if (gnorm <= gtol) {
      reason = 'gradient';
      break;
    }
    for (let i = 0; i < n; i++) {
      let d = 0;
      for (let j = 0; j < n; j++) d -= h[i * n + j]! * g[j]!;
      direction[i] = d;
    }
    let slope0 = dot(direction, g);
    if (!(slope0 < 0)) {
      // Not a descent direction (approximation lost positive definiteness): restart from steepest descent.
      h.fill(0);
      for (let i = 0; i < n; i++) {
        h[i * n + i] = 1;
        direction[i] = -g[i]!;
      }
      slope0 = dot(direction, g);
    }
    // First iteration: take a step of unit length in the largest coordinate to avoid wild jumps.
    const directionNorm = infNorm(direction);
    const maxAlpha =
      options.maxStep !== undefined && directionNorm > 0
        ? options.maxStep / directionNorm
        : Number.POSITIVE_INFINITY;
    const initialStep = Math.min(
      iterations === 0 && !givenInverseHessian ? Math.min(1, 1 / directionNorm) : 1,
      maxAlpha,
    );
    const step = strongWolfe(evaluate, x, f, slope0, direction, initialStep, maxAlpha, trialX, trialG);
    if (step === null) {
      reason = 'line-search';
      break;
    }
    iterations++;
    const previousF = f;
    for (let i = 0; i < n; i++) {
      s[i] = step.x[i]! - x[i]!;
      y[i] = step.g[i]! - g[i]!;
    }
    x = Float64Array.from(step.x);
    g = Float64Array.from(step.g);
    f = step.value;

    const sy = dot(s, y);
    if (sy > 1e-300) {
      if (iterations === 1 && !givenInverseHessian) {
        // Scale the initial identity to the curvature seen along the first step (N&W eq. 6.20).
        const scale = sy / dot(y, y);
        for (let i = 0; i < n * n; i++) h[i] = h[i]! * scale;
      }
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let j = 0; j < n; j++) v += h[i * n + j]! * y[j]!;
        hy[i] = v;
      }
      const yhy = dot(y, hy);
      const rho = 1 / sy;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          h[i * n + j] =
            h[i * n + j]! - rho * (hy[i]! * s[j]! + s[i]! * hy[j]!) + (rho * rho * yhy + rho) * s[i]! * s[j]!;
        }
      }
    }
    const change = Math.abs(previousF - f);
    if (change <= ftol * Math.max(1, Math.abs(f)) && infNorm(g) <= 1000 * gtol) {
      reason = 'flat';
      break;
    }
  }
  const gradientNorm = infNorm(g);
  if (gradientNorm <= gtol) reason = 'gradient';
  const converged =
    reason === 'gradient' || reason === 'flat' || (reason === 'line-search' && gradientNorm <= 1000 * gtol);
  return {
    x,
    value: f,
    gradient: g,
    gradientNorm,
    converged,
    iterations,
    evaluations,
    inverseHessian: h,
    reason,
  };
}

interface StepResult {
  x: Float64Array;
  g: Float64Array;
  value: number;
}

/** Strong-Wolfe line search along `direction`; null when no acceptable step was found. */
function strongWolfe(
  evaluate: (x: Float64Array, g: Float64Array) => number,
  x0: Float64Array,
  f0: number,
  slope0: number,
  direction: Float64Array,
  initialStep: number,
  maxAlpha: number,
  trialX: Float64Array,
  trialG: Float64Array,
): StepResult | null {
  const c1 = 1e-4;
  const c2 = 0.9;
  const n = x0.length;
  const at = (alpha: number): LinePoint => {
    for (let i = 0; i < n; i++) trialX[i] = x0[i]! + alpha * direction[i]!;
    const value = evaluate(trialX, trialG);
    return { alpha, value, slope: Number.isFinite(value) ? dot(trialG, direction) : Number.NaN };
  };
  const accept = (): StepResult => ({ x: Float64Array.from(trialX), g: Float64Array.from(trialG), value: 0 });

  let previous: LinePoint = { alpha: 0, value: f0, slope: slope0 };
  let alpha = initialStep;
  let best: StepResult | null = null;
  for (let i = 0; i < 30; i++) {
    let point = at(alpha);
    // Infeasible trial (overflow, parameters out of range): shrink towards the last good point.
    let shrink = 0;
    while (!Number.isFinite(point.value) || !Number.isFinite(point.slope)) {
      if (++shrink > 60) return best;
      alpha = previous.alpha + (alpha - previous.alpha) / 4;
      point = at(alpha);
    }
    if (point.value > f0 + c1 * alpha * slope0 || (i > 0 && point.value >= previous.value)) {
      return zoom(at, accept, f0, slope0, previous, point, c1, c2) ?? best;
    }
    if (Math.abs(point.slope) <= -c2 * slope0) {
      const r = accept();
      r.value = point.value;
      return r;
    }
    if (point.value < f0) {
      best = accept();
      best.value = point.value;
    }
    if (point.slope >= 0) {
      return zoom(at, accept, f0, slope0, point, previous, c1, c2) ?? best;
    }
    previous = point;
    if (alpha >= maxAlpha) {
      // The step bound is reached while the objective still falls: take the longest allowed step.
      const r = accept();
      r.value = point.value;
      return r;
    }
    alpha = Math.min(2 * alpha, maxAlpha);
  }
  return best;
}

function zoom(
  at: (alpha: number) => LinePoint,
  accept: () => StepResult,
  f0: number,
  slope0: number,
  lo: LinePoint,
  hi: LinePoint,
  c1: number,
  c2: number,
): StepResult | null {
  let best: StepResult | null = null;
  for (let i = 0; i < 40; i++) {
    const left = Math.min(lo.alpha, hi.alpha);
    const right = Math.max(lo.alpha, hi.alpha);
    const alpha = Number.isFinite(hi.slope) ? cubicMinimizer(lo, hi, left, right) : (left + right) / 2;
    const point = at(alpha);
    if (!Number.isFinite(point.value) || point.value > f0 + c1 * alpha * slope0 || point.value >= lo.value) {
      hi = point;
      if (!Number.isFinite(point.value)) hi = { alpha, value: Number.POSITIVE_INFINITY, slope: Number.NaN };
    } else {
      if (Math.abs(point.slope) <= -c2 * slope0) {
        const r = accept();
        r.value = point.value;
        return r;
      }
      // Sufficient decrease holds: remember it in case the bracket collapses before curvature does.
      best = accept();
      best.value = point.value;
      if (point.slope * (hi.alpha - lo.alpha) >= 0) hi = lo;
      lo = point;
    }
    if (Math.abs(hi.alpha - lo.alpha) < 1e-16 * Math.max(1, Math.abs(lo.alpha))) break;
  }
  return best;
}
