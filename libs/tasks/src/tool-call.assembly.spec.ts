import { ToolCallAssembly } from './tool-call.assembly.ts';

describe('ToolCallAssembly', () => {
  it('puts calls together by index from OpenAI-style fragments, in index order, and starts over on reset', () => {
    const calls = new ToolCallAssembly();
    calls.add({ index: 1, id: 'call_b', name: 'get_time', arguments: '{}' });
    calls.add({ index: 0, id: 'call_a', name: 'get_weather', arguments: '{"city":' });
    expect(calls.add({ index: 0, arguments: '"Beijing"}' })).toEqual({ id: 'call_a', name: 'get_weather', arguments: '{"city":"Beijing"}' });
    expect(calls.calls().map((call) => call.id)).toEqual(['call_a', 'call_b']);
    calls.reset();
    expect(calls.calls()).toEqual([]);
  });
});
