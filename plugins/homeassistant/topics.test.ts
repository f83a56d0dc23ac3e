import { describe, expect, it } from 'vitest';
import { parseCommand, slugOf } from './topics.js';

describe('homeassistant topics', () => {
  it('keeps a plain charger id as its slug, so the alerts channel\'s device is the same', () => {
    expect(slugOf('CP-1_a')).toBe('CP-1_a');
  });

  it('cleans and hashes an id with topic characters, and two ids cleaned alike stay apart', () => {
    const a = slugOf('a+b');
    const b = slugOf('a:b');
    expect(a).toMatch(/^a_b_[0-9a-f]{8}$/);
    expect(b).toMatch(/^a_b_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(slugOf('x'.repeat(48))).toMatch(/^x{40}_[0-9a-f]{8}$/);
    expect(slugOf('#/+')).toMatch(/^___[_0-9a-f]+$/);
  });

  it('reads only exact command topics of known buttons', () => {
    expect(parseCommand('ck', 'ck/CP1/2/cmd/unlock')).toEqual({ slug: 'CP1', connectorId: 2, button: 'unlock' });
    for (const topic of ['ck/CP1/2/cmd/explode', 'ck/CP1/2/cmd', 'ck/CP1/2/cmd/stop/x', 'other/CP1/2/cmd/stop', 'ck/CP1/x/cmd/stop', 'ck/CP1/123/cmd/stop', 'ck/C+P/1/cmd/stop', 'ckx/CP1/1/cmd/stop']) {
      expect(parseCommand('ck', topic), topic).toBeNull();
    }
  });
});
