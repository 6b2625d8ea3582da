import { describe, expect, it } from 'vitest';
import { type KeyPress, shortcutFor } from './shortcuts';

const press = (key: string, target: KeyPress['target'] = { tagName: 'BODY' }, more: Partial<KeyPress> = {}) =>
  shortcutFor({ key, ctrlKey: false, altKey: false, metaKey: false, target, ...more });

describe('shortcutFor', () => {
  it('maps I, O, P and L in either case', () => {
    expect(press('i')).toBe('mark-in');
    expect(press('O')).toBe('mark-out');
    expect(press('p')).toBe('preview');
    expect(press('l')).toBe('go-live');
    expect(press('x')).toBeNull();
  });

  it('works from buttons, the scrubber and the video', () => {
    expect(press('i', { tagName: 'BUTTON', type: 'button' })).toBe('mark-in');
    expect(press('i', { tagName: 'INPUT', type: 'range' })).toBe('mark-in');
    expect(press('o', { tagName: 'VIDEO' })).toBe('mark-out');
  });

  it('leaves typing and key combinations alone', () => {
    expect(press('i', { tagName: 'INPUT', type: 'text' })).toBeNull();
    expect(press('i', { tagName: 'INPUT' })).toBeNull();
    expect(press('i', { tagName: 'TEXTAREA' })).toBeNull();
    expect(press('i', { tagName: 'SELECT' })).toBeNull();
    expect(press('i', { tagName: 'DIV', isContentEditable: true })).toBeNull();
    expect(press('i', null, { ctrlKey: true })).toBeNull();
    expect(press('l', null, { metaKey: true })).toBeNull();
  });
});
