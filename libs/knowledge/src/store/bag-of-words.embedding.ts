// A deterministic stand-in for an embedding model, for tests and benchmarks: hashed bag of words,
// L2-normalised. Texts that share words have a higher cosine similarity, which is all a store
// test needs, and no model file is loaded.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1a(text: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** Hashed bag-of-words vector of `text` (lowercased words), normalised to length 1. Never all zeros. */
export function bagOfWordsVector(text: string, dimension = 384): number[] {
  const vector = new Array<number>(dimension).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const hash = fnv1a(word);
    vector[hash % dimension]! += hash & 0x8000_0000 ? -1 : 1;
  }
  let norm = Math.hypot(...vector);
  if (norm === 0) {
    vector[0] = 1;
    norm = 1;
  }
  return vector.map((value) => value / norm);
}
