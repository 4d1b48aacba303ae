/**
 * Whether a run values customers on net contribution (docs/economics.md): decided once per run
 * (`planRun`, from the run profile's presence counts), so that a run whose data has no economics
 * renders every statement exactly as before.
 */
import type { RecalcConfig } from '#domain/recalc-config.ts';
import type { RunEconomics } from './types.ts';

/**
 * The run's economics when its sources have order rows with figures of their own or attributes rows,
 * or when the settings have an `economics` section (a handling cost or margin rates apply to plain
 * revenue too); undefined otherwise.
 */
export function runEconomicsOf(config: RecalcConfig, found: RunEconomics): RunEconomics | undefined {
  const hasData = found.orderRowsWithFigures > 0 || found.attributeRows > 0;
  return hasData || config.economics !== undefined ? found : undefined;
}
