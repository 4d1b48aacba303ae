/**
 * Whether a run values customers on net contribution (docs/economics.md): decided once in `prepare`,
 * so that a run whose data has no economics renders every statement exactly as before.
 */
import type { RecalcConfig } from '#domain/recalc-config.ts';
import type { Warehouse } from '../ports/warehouse.ts';
import type { RecalcDeps, RunEconomics } from './types.ts';

/**
 * The run's economics when its sources have order rows with figures of their own or attributes rows,
 * or when the settings have an `economics` section (a handling cost or margin rates apply to plain
 * revenue too); undefined otherwise.
 */
export async function runEconomicsOf(
  deps: Pick<RecalcDeps, 'queries'>,
  warehouse: Warehouse,
  config: RecalcConfig,
  sources: string[],
): Promise<RunEconomics | undefined> {
  const [presence] = await warehouse.query(deps.queries.economicsPresence({ sources }));
  const found = {
    orderRowsWithFigures: presence?.orderRowsWithFigures ?? 0,
    attributeRows: presence?.attributeRows ?? 0,
  };
  const hasData = found.orderRowsWithFigures > 0 || found.attributeRows > 0;
  return hasData || config.economics !== undefined ? found : undefined;
}
