import { Embeddings } from '@langchain/core/embeddings';
import type * as Ort from 'onnxruntime-node';
import { EmbeddingSessions } from './embedding-sessions.ts';
import { ensureEmbeddingModel, type EnsureModelOptions } from './ensure-model.ts';
import { embeddedModelArtifact } from './model-artifact.ts';
import { meanPoolNormalized, padBatch, planBatches } from './pooling.ts';
import { WordPieceTokenizer } from './wordpiece.tokenizer.ts';

export const MINILM_DIMENSION = 384;
/** BERT's position embeddings end here; a longer window is impossible for this model. */
const MODEL_POSITION_LIMIT = 512;

export interface MiniLmEmbeddingsOptions {
  /** The ONNX model and tokenizer.json, as returned by ensureEmbeddingModel(). */
  onnxPath: string;
  vocabPath: string;
  modelId: string;
  /** Which known model the files are (batch size and window defaults); default all-minilm-l6-v2. */
  model?: string;
  /** Texts per ONNX run at most (each padded to the longest in its run). Default: the model's defaultBatchSize. */
  batchSize?: number;
  /**
   * onnxruntime intra-op threads (of each session). Default: onnxruntime's choice (one per
   * physical core), or 1 per session when `sessions` is set.
   */
  threads?: number;
  /**
   * ONNX sessions, each in a worker thread of its own: up to this many calls run at once, on as
   * many cores, and the calling thread's event loop is never blocked by the model. One call runs
   * whole on one session (its batches in order), so parallelism comes from concurrent calls (as
   * IngestPipeline makes them). Unset: one session in the calling thread, which a batch blocks.
   * Each session holds its own copy of the model (~90 MB for float32).
   */
  sessions?: number;
  /** With `sessions`: told of a session that failed outside any call (it is replaced). */
  onSessionError?: (error: Error) => void;
  /**
   * Longest input in tokens including [CLS] and [SEP]; the rest of a longer text is ignored.
   * Default 128 (what langchain4j does with this artifact, and the model's training length).
   */
  maxTokens?: number;
}

interface Loaded {
  ort: typeof Ort;
  session: Ort.InferenceSession;
  outputName: string;
}

/**
 * all-MiniLM-L6-v2 in process, as a LangChain `Embeddings`: WordPiece tokenisation from the model's
 * own tokenizer.json, onnxruntime-node inference in padded batches, mean pooling over the attention
 * mask and L2 normalisation. Vectors have 384 dimensions and unit length, so cosine similarity is
 * their dot product. The ONNX session is created on first use (or by `load()`); with `sessions`,
 * that many sessions run in worker threads (`EmbeddingSessions`).
 */
export class MiniLmEmbeddings extends Embeddings {
  readonly dimension = MINILM_DIMENSION;
  readonly modelId: string;
  readonly batchSize: number;
  readonly maxTokens: number;
  /** Calls that can run at once: `sessions`, or 1 in process. */
  readonly parallelism: number;
  private readonly options: MiniLmEmbeddingsOptions;
  private loading: Promise<Loaded> | undefined;
  private tokenizing: Promise<WordPieceTokenizer> | undefined;
  private readonly pool: EmbeddingSessions | undefined;

  constructor(options: MiniLmEmbeddingsOptions) {
    super({});
    const artifact = embeddedModelArtifact(options.model);
    const batchSize = options.batchSize ?? artifact.defaultBatchSize;
    const maxTokens = options.maxTokens ?? artifact.maxTokens;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
      throw new RangeError(`threads must be a positive integer, got ${options.threads}`);
    }
    if (options.sessions !== undefined && (!Number.isInteger(options.sessions) || options.sessions < 1)) {
      throw new RangeError(`sessions must be a positive integer, got ${options.sessions}`);
    }
    if (!Number.isInteger(maxTokens) || maxTokens < 2 || maxTokens > MODEL_POSITION_LIMIT) {
      throw new RangeError(`maxTokens must be an integer in 2..${MODEL_POSITION_LIMIT}, got ${maxTokens}`);
    }
    this.options = options;
    this.modelId = options.modelId;
    this.batchSize = batchSize;
    this.maxTokens = maxTokens;
    this.parallelism = options.sessions ?? 1;
    if (options.sessions !== undefined) {
      // Each worker runs this class in process with the same files and settings (cloned: data only).
      const inProcess: MiniLmEmbeddingsOptions = { onnxPath: options.onnxPath, vocabPath: options.vocabPath, modelId: options.modelId, batchSize, maxTokens, threads: options.threads ?? 1, ...(options.model !== undefined ? { model: options.model } : {}) };
      this.pool = new EmbeddingSessions({ size: options.sessions, workerData: inProcess, ...(options.onSessionError ? { onSessionError: options.onSessionError } : {}) });
    }
  }

  /** Ensures the model files (fetching them on first use on this machine), then loads the session. */
  static async fromCache(options: EnsureModelOptions & Omit<MiniLmEmbeddingsOptions, 'onnxPath' | 'vocabPath' | 'modelId'> = {}): Promise<MiniLmEmbeddings> {
    const files = await ensureEmbeddingModel(options);
    const artifact = options.artifact ?? embeddedModelArtifact(options.model);
    const embeddings = new MiniLmEmbeddings({
      ...options,
      ...files,
      batchSize: options.batchSize ?? artifact.defaultBatchSize,
      maxTokens: options.maxTokens ?? artifact.maxTokens,
    });
    await embeddings.load();
    return embeddings;
  }

  /** Creates the ONNX session(s) and the tokenizer (idempotent). */
  async load(): Promise<void> {
    if (this.pool) await Promise.all([this.tokenizer(), this.pool.start()]);
    else await Promise.all([this.tokenizer(), this.loaded()]);
  }

  private tokenizer(): Promise<WordPieceTokenizer> {
    this.tokenizing ??= WordPieceTokenizer.fromFile(this.options.vocabPath, this.maxTokens);
    this.tokenizing.catch(() => (this.tokenizing = undefined));
    return this.tokenizing;
  }

  private loaded(): Promise<Loaded> {
    this.loading ??= (async () => {
      // Loaded here, not at import: apps on the openai provider never load the native runtime.
      const ort = await import('onnxruntime-node');
      const session = await ort.InferenceSession.create(this.options.onnxPath, {
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        interOpNumThreads: 1,
        ...(this.options.threads !== undefined ? { intraOpNumThreads: this.options.threads } : {}),
      });
      const outputName = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0];
      if (outputName === undefined) throw new Error(`${this.options.onnxPath} has no outputs`);
      return { ort, session, outputName };
    })();
    this.loading.catch(() => (this.loading = undefined));
    return this.loading;
  }

  /** Token ids the model sees for a text ([CLS] … [SEP], truncated to maxTokens). */
  async tokenIds(text: string): Promise<number[]> {
    return (await this.tokenizer()).encode(text);
  }

  /** Word pieces in a text before truncation (to size chunks to the model's window). */
  async countTokens(text: string): Promise<number> {
    return (await this.tokenizer()).countTokens(text);
  }

  async embedQuery(text: string): Promise<number[]> {
    // A query waits for a free session, but not behind the documents already waiting for one.
    const [vector] = await this.embed([text], { first: true });
    if (!vector) throw new Error(`${this.modelId}: no vector for the query`);
    return vector;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return this.embed(texts);
  }

  private async embed(texts: string[], options: { first?: boolean } = {}): Promise<number[][]> {
    if (texts.length === 0) return [];
    texts.forEach((text, index) => {
      if (typeof text !== 'string') throw new TypeError(`text ${index} is ${typeof text}, not a string`);
    });
    if (this.pool) return this.pool.run(texts, options);
    const [{ ort, session, outputName }, tokenizer] = await Promise.all([this.loaded(), this.tokenizer()]);
    const items = texts.map((text, index) => ({ index, ids: tokenizer.encode(text) }));
    // Similar lengths share a run, and a run ends where padding would cost more than another run,
    // so little compute goes into padding; results go back in input order.
    items.sort((a, b) => a.ids.length - b.ids.length);
    const vectors: number[][] = new Array<number[]>(texts.length);
    let start = 0;
    for (const end of planBatches(items.map((item) => item.ids.length), this.batchSize)) {
      const batchItems = items.slice(start, end);
      start = end;
      const batch = padBatch(batchItems.map((item) => item.ids));
      const dims = [batch.batch, batch.seqLen];
      const feeds: Record<string, Ort.Tensor> = {
        input_ids: new ort.Tensor('int64', batch.inputIds, dims),
        attention_mask: new ort.Tensor('int64', batch.attentionMask, dims),
      };
      if (session.inputNames.includes('token_type_ids')) feeds['token_type_ids'] = new ort.Tensor('int64', batch.tokenTypeIds, dims);
      const output = (await session.run(feeds))[outputName];
      if (!output || output.dims.length !== 3 || output.dims[2] !== this.dimension) {
        throw new Error(`${this.modelId}: unexpected model output ${outputName} with dims [${output?.dims.join(', ') ?? ''}]`);
      }
      const pooled = meanPoolNormalized(output.data as Float32Array, batch.attentionMask, batch.batch, batch.seqLen, this.dimension);
      output.dispose();
      batchItems.forEach((item, row) => {
        const vector = pooled[row];
        if (!vector) throw new Error(`${this.modelId}: the model returned fewer rows than the batch`);
        vectors[item.index] = vector;
      });
    }
    return vectors;
  }

  /** Frees the native session (in process: the instance loads it again if used afterwards; sessions: for good). */
  async close(): Promise<void> {
    await this.pool?.close();
    const loading = this.loading;
    this.loading = undefined;
    if (loading) await (await loading).session.release();
  }
}
