// Regenerates the reference vectors that @aip/embeddings is tested against
// (libs/embeddings/test/fixtures/<variant>.reference.json) with the REFERENCE implementation:
// langchain4j's in-process all-MiniLM-L6-v2, Java, from the same Maven Central artifacts our code
// unpacks (pom.xml beside this file pins the version).
//
//   node tools/models/reference/generate.ts [all-minilm-l6-v2 | all-minilm-l6-v2-q]   (default: both)
//
// Needs Java 17 and Maven. Run it after changing the pinned artifact version or the texts below.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const VARIANTS = ['all-minilm-l6-v2', 'all-minilm-l6-v2-q'];
const fixtureOf = (variant: string) => path.join(repo, 'libs', 'embeddings', 'test', 'fixtures', `${variant}.reference.json`);

const longText = [
  'Event-driven platforms decouple the services that accept requests from the workers that run models,',
  'so that a burst of traffic waits in the broker instead of knocking the workers over.',
  'Each worker pulls only as many messages as it has free slots, extends the lease while a long answer is generated,',
  'and acknowledges the message after the result has been stored, which means that a crashed worker loses nothing:',
  'its message simply becomes visible again and another worker takes it over.',
  'The knowledge base is kept current by change-data-capture events, documents are parsed, split into chunks,',
  'hashed so that unchanged chunks are not embedded twice, and written to a vector store together with their text,',
  'so retrieval can combine dense vectors with full-text search and fuse both rankings.',
].join(' ');

/** Fixed texts: plain, punctuation, accents, a long-ish sentence, non-English words, symbols, over-window, blank. */
export const REFERENCE_TEXTS: ReadonlyArray<{ id: string; text: string }> = [
  { id: 'plain', text: 'The quick brown fox jumps over the lazy dog.' },
  { id: 'punctuation', text: "Wait... what?! It's 5:30 p.m. -- (again) [sic]; e-mail me @ once, please." },
  { id: 'accents', text: 'Crème brûlée at the café in Zürich: a naïve façade, an Ångström-sized résumé.' },
  {
    id: 'long-sentence',
    text:
      'When a user asks the assistant about the most interesting sights in Beijing, the scheduler notices the intent ' +
      'a few minutes later and, unless the user has opted out or it is the middle of the night, proposes hotel ' +
      'suggestions near the Forbidden City together with the opening hours of the museums.',
  },
  { id: 'non-english', text: 'Schadenfreude und Gemütlichkeit sind deutsche Wörter; 北京是中国的首都。' },
  { id: 'symbols', text: 'RocketMQ 5.5.0 handles 12,000 msg/s on 2 cores (p99 < 20 ms) — 100% of the time? #ops $0.02' },
  { id: 'whitespace', text: '  Leading and trailing   spaces,\n\ta tab and\r\na line break  ' },
  { id: 'over-window', text: longText },
  { id: 'empty', text: '' },
];

function generate(variant: string): void {
  const fixture = fixtureOf(variant);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aip-embeddings-reference-'));
  try {
    const input = path.join(work, 'input.json');
    const output = path.join(work, 'output.json');
    fs.writeFileSync(input, JSON.stringify({ texts: REFERENCE_TEXTS }));
    const mvn = process.env['MODELS_MVN'] ?? 'mvn';
    process.stderr.write(`running the langchain4j reference with ${mvn} (first run resolves its jars) ...\n`);
    const res = spawnSync(mvn, ['-B', '-q', '-f', path.join(here, 'pom.xml'), 'compile', 'exec:java', `-Dexec.args=${variant} ${input} ${output}`,
      // DJL (langchain4j's tokenizer binding) must use the native library in its jar, never download one.
      '-Dai.djl.offline=true', `-DDJL_CACHE_DIR=${path.join(work, 'djl')}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (res.error || res.status !== 0) {
      throw new Error(`reference generator failed (${res.error?.message ?? `exit ${res.status}`}):\n${res.stdout}\n${res.stderr}`);
    }
    const pom = fs.readFileSync(path.join(here, 'pom.xml'), 'utf8');
    const version = /<langchain4j\.embeddings\.version>([^<]+)</.exec(pom)?.[1];
    const java = JSON.parse(fs.readFileSync(output, 'utf8')) as {
      javaVersion: string;
      modelClass: string;
      dimension: number;
      texts: Array<{ id: string; tokenIds: number[]; tokens: string[]; inputTokenCount?: number; vector?: number[]; error?: string }>;
    };
    const texts = java.texts.map(({ id, ...result }) => {
      const input = REFERENCE_TEXTS.find((item) => item.id === id);
      if (!input) throw new Error(`the reference answered for an unknown text id ${id}`);
      return { id, text: input.text, ...result };
    });
    // One text per block and each array on one line: reviewable diffs, small file.
    const lines = texts.map((item) => {
      const fields = Object.entries(item).map(([key, value]) => `    ${JSON.stringify(key)}: ${JSON.stringify(value)}`);
      return `  {\n${fields.join(',\n')}\n  }`;
    });
    const header = {
      generatedBy: `tools/models/reference/generate.ts (${java.modelClass})`,
      artifact: `dev.langchain4j:langchain4j-embeddings-${variant}:${version}`,
      javaVersion: java.javaVersion,
      dimension: java.dimension,
    };
    const body = `${JSON.stringify(header, null, 2).slice(0, -2)},\n  "texts": [\n${lines.join(',\n').replace(/^/gm, '  ')}\n  ]\n}\n`;
    JSON.parse(body);
    fs.mkdirSync(path.dirname(fixture), { recursive: true });
    fs.writeFileSync(fixture, body);
    process.stderr.write(`wrote ${texts.length} reference vectors to ${path.relative(repo, fixture)}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((variant) => !VARIANTS.includes(variant));
  if (unknown.length > 0) throw new Error(`unknown variant(s) ${unknown.join(', ')}; known: ${VARIANTS.join(', ')}`);
  for (const variant of asked.length > 0 ? asked : VARIANTS) generate(variant);
}
