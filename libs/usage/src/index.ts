export { PriceBook, type PricedProvider } from './price-book.ts';
export { costNanos, LEDGER_EVENTS, usageEntryOf, type LedgerEvent, type Price, type UsageEntry, type UsageStatus } from './usage-entry.ts';
export { migrate, openUsageDatabase, type UsageDb, type UsageSchema } from './usage.database.ts';
export { USAGE_DIMENSIONS, UsageLedger, type Feedback, type UsageDimension, type UsageFilter, type UsageLine } from './usage.ledger.ts';
