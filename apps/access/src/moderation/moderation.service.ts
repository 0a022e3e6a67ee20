/**
 * Moderation is shared with rtc-push (@aip/chat-policy): one word filter, one `words` document,
 * one block/mask policy on every chat entry point. Re-exported here for access's module wiring.
 */
export { Moderation, wordsDocumentSchema, type WordsDocument } from '@aip/chat-policy';
