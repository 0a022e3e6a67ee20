export const PUSH_ID_MESSAGE = 'a push id as received in a push frame (<ms>-<n>, each at most 2^64 - 1)';
