import { namespaceProblem } from '@aip/contracts';
import { uniqueNamespace } from './broker.ts';

describe('uniqueNamespace', () => {
  it("gives every call a namespace of its own that the broker's names can take", () => {
    const namespaces = ['rtc-it', 'kb-it', 'it-intent', 'e2e-rag', 'e2e-proactive', 'fuzz', 'fuzz-intent'].map(uniqueNamespace);
    expect(namespaces.map(namespaceProblem)).toEqual(namespaces.map(() => undefined));
    expect(new Set(namespaces).size).toBe(namespaces.length);
  });

  it('refuses a prefix that would make the namespace too long', () => {
    expect(() => uniqueNamespace('a-prefix-much-too-long-for-a-namespace')).toThrow(RangeError);
  });
});
