import { ApiError } from '@aip/runtime';
import { USAGE_DIMENSIONS } from '@aip/usage';
import { reportQuery, usageCsv } from './usage.controller.ts';

describe('usage queries', () => {
  it('defaults to the last 7 days by day', () => {
    const { filter, by } = reportQuery({}, USAGE_DIMENSIONS);
    expect(by).toEqual(['day']);
    expect(filter.to.getTime() - filter.from.getTime()).toBe(7 * 86_400_000);
  });

  it('takes filters and a grouping, and refuses what a key may not group by', () => {
    expect(reportQuery({ from: '2026-12-01', to: '2026-12-08', group_by: 'model, hour', model: 'fast' }, USAGE_DIMENSIONS)).toMatchObject({ by: ['model', 'hour'], filter: { model: 'fast', from: new Date('2026-12-01') } });
    expect(() => reportQuery({ group_by: 'tenant' }, ['model', 'day'])).toThrow(ApiError);
  });

  it('writes CSV that a spreadsheet reads as text: quotes, and no formulas from user-chosen values', () => {
    const line = { user: '=HYPERLINK("x")', model: 'a,b', requests: 1, failed: 0, promptTokens: 2, completionTokens: 3, cachedTokens: 0, cost: 0.5, firstTokenMsP50: null, durationMsP50: 10, feedbackScore: null, feedbackCount: 0 };
    expect(usageCsv([line], ['user', 'model'])).toBe('user,model,requests,failed,promptTokens,completionTokens,cachedTokens,cost,firstTokenMsP50,durationMsP50,feedbackScore,feedbackCount\r\n"\'=HYPERLINK(""x"")","a,b",1,0,2,3,0,0.5,,10,,0\r\n');
  });

  it('refuses what a store could not take: a year out of range, a filter that is no id', () => {
    expect(() => reportQuery({ from: '+275760-09-13T00:00:00.000Z' }, USAGE_DIMENSIONS)).toThrow(expect.objectContaining({ param: 'from' }));
    expect(() => reportQuery({ user: 'a\u0000b' }, USAGE_DIMENSIONS)).toThrow(ApiError);
    expect(() => reportQuery({ model: '../etc' }, USAGE_DIMENSIONS)).toThrow(expect.objectContaining({ param: 'model' }));
  });
});
