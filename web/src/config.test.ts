import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config';

const valid = {
  apiBaseUrl: 'https://clips.example.com/',
  liveUrl: 'https://origin.example.com/out/v1/abc/index.m3u8',
  competitions: ['demo', { id: '100m-final', name: '100 m final' }, { id: 'relay' }],
};

describe('parseConfig', () => {
  it('normalises what it reads', () => {
    expect(parseConfig(valid)).toEqual({
      apiBaseUrl: 'https://clips.example.com',
      liveUrl: valid.liveUrl,
      dvrWindowSeconds: 600,
      competitions: [
        { id: 'demo', name: 'demo' },
        { id: '100m-final', name: '100 m final' },
        { id: 'relay', name: 'relay' },
      ],
    });
    expect(parseConfig({ ...valid, apiBaseUrl: '', dvrWindowSeconds: 0 })).toMatchObject({
      apiBaseUrl: '',
      dvrWindowSeconds: 0,
    });
  });

  it('names the setting that is wrong', () => {
    const cases: [unknown, string][] = [
      [[], 'JSON object'],
      [{ ...valid, apiBaseUrl: undefined }, 'apiBaseUrl'],
      [{ ...valid, liveUrl: '' }, 'liveUrl'],
      [{ ...valid, dvrWindowSeconds: 1.5 }, 'dvrWindowSeconds'],
      [{ ...valid, dvrWindowSeconds: -1 }, 'dvrWindowSeconds'],
      [{ ...valid, competitions: [] }, 'competitions'],
      [{ ...valid, competitions: ['a', { name: 'no id' }] }, 'competitions[1]'],
    ];
    for (const [raw, named] of cases) {
      expect(() => parseConfig(raw)).toThrow(ConfigError);
      expect(() => parseConfig(raw)).toThrow(named);
    }
  });
});
