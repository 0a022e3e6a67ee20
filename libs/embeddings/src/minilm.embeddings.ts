import { Embeddings } from '@langchain/core/embeddings';
import type * as Ort from 'onnxruntime-node';
import { ensureEmbeddingModel, type EnsureModelOptions } from './ensure-model.ts';
import { embeddedModelArtifact } from './model-artifact.ts';
import { meanPoolNormalized, padBatch } from './pooling.ts';
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
  /** Texts per ONNX run (padded to the longest in the batch). Default: the model's defaultBatchSize. */
  batchSize?: number;
  /** onnxruntime intra-op threads. Default: onnxruntime's choice (one per physical core). */
  threads?: number;
  /**
   * Longest input in tokens including [CLS] and [SEP]; the rest of a longer text is ignored.
   * Default 128 (what langchain4j does with this artifact, and the model's training length).
   */
  maxTokens?: number;
}

interface Loaded {
  ort: typeof Ort;
  session: Ort.InferenceSession;
  tokenizer: WordPieceTokenizer;
  outputName: string;
}

/**
 * all-MiniLM-L6-v2 in process, as a LangChain `Embeddings`: WordPiece tokenisation from the model's
 * own tokenizer.json, onnxruntime-node inference in padded batches, mean pooling over the attention
 * mask and L2 normalisation. Vectors have 384 dimensions and unit length, so cosine similarity is
 * their dot product. The ONNX session is created on first use (or by `load()`).
 */
export class MiniLmEmbeddings extends Embeddings {
  readonly dimension = MINILM_DIMENSION;
  readonly modelId: string;
  readonly batchSize: number;
  readonly maxTokens: number;
  private readonly options: MiniLmEmbeddingsOptions;
  private loading: Promise<Loaded> | undefined;

  constructor(options: MiniLmEmbeddingsOptions) {
    super({});
    const artifact = embeddedModelArtifact(options.model);
    const batchSize = options.batchSize ?? artifact.defaultBatchSize;
    const maxTokens = options.maxTokens ?? artifact.maxTokens;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
      throw new RangeError(`threads must be a positive integer, got ${options.threads}`);
    }
    if (!Number.isInteger(maxTokens) || maxTokens < 2 || maxTokens > MODEL_POSITION_LIMIT) {
      throw new RangeError(`maxTokens must be an integer in 2..${MODEL_POSITION_LIMIT}, got ${maxTokens}`);
    }
    this.options = options;
    this.modelId = options.modelId;
    this.batchSize = batchSize;
    this.maxTokens = maxTokens;
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

  /** Creates the ONNX session and tokenizer (idempotent). */
  async load(): Promise<void> {
    await this.loaded();
  }

  private loaded(): Promise<Loaded> {
    this.loading ??= (async () => {
      // Loaded here, not at import: apps on the openai provider never load the native runtime.
      const ort = await import('onnxruntime-node');
      const [session, tokenizer] = await Promise.all([
        ort.InferenceSession.create(this.options.onnxPath, {
          graphOptimizationLevel: 'all',
          executionMode: 'sequential',
          interOpNumThreads: 1,
          ...(this.options.threads !== undefined ? { intraOpNumThreads: this.options.threads } : {}),
        }),
        WordPieceTokenizer.fromFile(this.options.vocabPath, this.maxTokens),
      ]);
      const outputName = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0];
      if (outputName === undefined) throw new Error(`${this.options.onnxPath} has no outputs`);
      return { ort, session, tokenizer, outputName };
    })();
    this.loading.catch(() => (this.loading = undefined));
    return this.loading;
  }

  /** Token ids the model sees for a text ([CLS] … [SEP], truncated to maxTokens). */
  async tokenIds(text: string): Promise<number[]> {
    return (await this.loaded()).tokenizer.encode(text);
  }

  /** Word pieces in a text before truncation (to size chunks to the model's window). */
  async countTokens(text: string): Promise<number> {
    return (await this.loaded()).tokenizer.countTokens(text);
  }

  async embedQuery(text: string): Promise<number[]> {
    const [vector] = await this.embedDocuments([text]);
    if (!vector) throw new Error(`${this.modelId}: no vector for the query`);
    return vector;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const { ort, session, tokenizer, outputName } = await this.loaded();
    const items = texts.map((text, index) => {
      if (typeof text !== 'string') throw new TypeError(`text ${index} is ${typeof text}, not a string`);
      return { index, ids: tokenizer.encode(text) };
    });
    // Similar lengths share a batch, so little compute goes into padding; results go back in input order.
    items.sort((a, b) => a.ids.length - b.ids.length);
    const vectors: number[][] = new Array<number[]>(texts.length);
    for (let start = 0; start < items.length; start += this.batchSize) {
      const batchItems = items.slice(start, start + this.batchSize);
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

  /** Frees the native session; the instance loads it again if used afterwards. */
  async close(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    if (loading) await (await loading).session.release();
  }
}
