import { describe, expect, it } from 'vitest';
import { checkConfigKeys, checks } from './index.js';

describe('check registry', () => {
  it('gives every config key to one check only, so merging them into one section loses none', () => {
    const keys = Object.values(checks).flatMap((c) => Object.keys(c.config));
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    expect(Object.keys(checkConfigKeys).sort()).toEqual([...keys].sort());
  });
});
