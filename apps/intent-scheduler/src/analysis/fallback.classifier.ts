import type { Catalogue } from '@aip/contracts';
import type { Classification, IntentClassifier } from './classifier.port.ts';

/** The chat model first; when it fails (down, timeout), the embedding classifier still answers. */
export class FallbackClassifier implements IntentClassifier {
  readonly name: string;

  constructor(
    private readonly primary: IntentClassifier,
    private readonly fallback: IntentClassifier,
    private readonly onFallback: (error: unknown) => void = () => undefined,
  ) {
    this.name = `${primary.name}+${fallback.name}`;
  }

  async classify(texts: readonly string[], catalogue: Catalogue): Promise<Classification | undefined> {
    try {
      return await this.primary.classify(texts, catalogue);
    } catch (error) {
      this.onFallback(error);
      return this.fallback.classify(texts, catalogue);
    }
  }
}
