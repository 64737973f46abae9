/**
 * Per-event problems (an address that is not one, a value too long) are logged, but only the first few:
 * a bad feed would otherwise write one warning per event and bury everything else in the log.
 */
import type { PipelineLogger } from '../plugin.js';

export const MAX_WARNINGS = 10;

export function boundedWarn(logger: PipelineLogger, label: string, limit: number = MAX_WARNINGS): (message: string) => void {
  let count = 0;
  return (message) => {
    count++;
    if (count < limit) logger.warn(`${label}: ${message}`);
    else if (count === limit) logger.warn(`${label}: ${message} (further warnings of this filter are not logged)`);
  };
}
