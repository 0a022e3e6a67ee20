import { stopBroker } from '@aip/rocketmq-local';

/** Stops the broker if this run started it, unless AIP_KEEP_BROKER=1 (the full suite reuses one). */
export default async function globalTeardown(): Promise<void> {
  const startedByUs = (globalThis as { aipBrokerStartedByUs?: boolean }).aipBrokerStartedByUs;
  if (startedByUs && process.env['AIP_KEEP_BROKER'] !== '1') await stopBroker();
}
