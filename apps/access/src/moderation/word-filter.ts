/** The word filter is shared with rtc-push (@aip/chat-policy); re-exported for access's older import sites. */
export { StreamMasker, WordFilter } from '@aip/chat-policy';
