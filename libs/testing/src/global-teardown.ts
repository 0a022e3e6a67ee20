import { stopBroker } from '@aip/rocketmq-local';
import type { IntegrationState } from './global-setup.ts';

/**
 * Removes the containers this run started; stops the local broker if this run started it, unless
 * AIP_KEEP_BROKER=1 (the full suite reuses one).
 */
export default async function globalTeardown(): Promise<void> {
  const state = globalThis as IntegrationState;
  if (state.aipContainers) await state.aipContainers.stop();
  if (state.aipBrokerStartedByUs && process.env['AIP_KEEP_BROKER'] !== '1') await stopBroker();
}
