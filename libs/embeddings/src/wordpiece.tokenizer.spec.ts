import { truncateIds, WordPieceTokenizer } from './wordpiece.tokenizer.ts';

// A tiny BERT-uncased tokenizer definition built in code (same component types as the model's
// tokenizer.json), so the behaviour we rely on is pinned without the model download.
const vocabList = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'the', 'cafe', 'in', 'zurich', 'em', '##bed', '##s', ',', '!', '.', 'hello', '北', '京'];
const definition = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]'].map((content, id) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  })),
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
  },
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: {
    type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100,
    vocab: Object.fromEntries(vocabList.map((token, id) => [token, id])),
  },
};

describe('WordPieceTokenizer', () => {
  const tokenizer = new WordPieceTokenizer(definition, 128);

  it('lower-cases, strips accents, splits punctuation and CJK characters, and wraps in [CLS] … [SEP]', () => {
    expect(tokenizer.tokenize('Hello, the CAFÉ in Zürich! 北京')).toEqual(['[CLS]', 'hello', ',', 'the', 'cafe', 'in', 'zurich', '!', '北', '京', '[SEP]']);
  });

  it('splits unknown words into word pieces and maps unknowable ones to [UNK]', () => {
    expect(tokenizer.tokenize('embeds xyz')).toEqual(['[CLS]', 'em', '##bed', '##s', '[UNK]', '[SEP]']);
    expect(tokenizer.encode('embeds xyz')).toEqual([2, 8, 9, 10, 1, 3]);
  });

  it('encodes the empty string as [CLS] [SEP]', () => {
    expect(tokenizer.encode('')).toEqual([2, 3]);
  });

  it('truncates long input to maxTokens, keeping [CLS] at the start and [SEP] at the end', () => {
    const short = new WordPieceTokenizer(definition, 5);
    expect(short.tokenize('the cafe in zurich in the cafe')).toEqual(['[CLS]', 'the', 'cafe', 'in', '[SEP]']);
    expect(short.encode('the cafe in zurich in the cafe')).toEqual([2, 4, 5, 6, 3]);
    expect(short.countTokens('the cafe in zurich in the cafe')).toBe(7);
  });

  it('refuses a definition that is not a BERT tokenizer', () => {
    const noSep = { ...definition, added_tokens: definition.added_tokens.slice(0, 3), model: { ...definition.model, vocab: { '[UNK]': 0, '[CLS]': 1 } } };
    expect(() => new WordPieceTokenizer(noSep, 128)).toThrow(/\[SEP\]/);
  });
});

describe('truncateIds', () => {
  it('leaves short sequences alone and cuts long ones to exactly maxTokens', () => {
    expect(truncateIds([101, 5, 102], 4, 102)).toEqual([101, 5, 102]);
    expect(truncateIds([101, 1, 2, 3, 4, 102], 4, 102)).toEqual([101, 1, 2, 102]);
    expect(() => truncateIds([101, 102], 1, 102)).toThrow(RangeError);
  });
});
