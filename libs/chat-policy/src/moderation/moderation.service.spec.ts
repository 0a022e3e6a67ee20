import { Moderation } from './moderation.service.ts';

describe('Moderation', () => {
  it('blocks or masks request messages according to the document in force', () => {
    const moderation = new Moderation({ words: ['darn'], input: 'block' });
    expect(moderation.screen([{ role: 'user', content: 'oh ｄａｒｎ' }])).toBeUndefined();
    expect(moderation.screen([{ role: 'user', content: 'fine' }])).toEqual([{ role: 'user', content: 'fine' }]);
    moderation.apply({ words: ['darn'], input: 'mask' });
    expect(moderation.screen([{ role: 'user', content: 'oh d\u200barn' }])).toEqual([{ role: 'user', content: 'oh ****' }]);
  });
});
