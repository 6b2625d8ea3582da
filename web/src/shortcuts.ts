// Keyboard shortcuts of the studio, active anywhere but where keys type text.

export type Shortcut = 'mark-in' | 'mark-out' | 'preview' | 'go-live';

const KEYS: Record<string, Shortcut> = { i: 'mark-in', o: 'mark-out', p: 'preview', l: 'go-live' };

/** Inputs that take no typed text: a letter pressed there is meant as a shortcut. */
const NON_TEXT_INPUTS = ['range', 'button', 'submit', 'reset', 'checkbox', 'radio'];

/** What is known of the element a key was pressed in (an `HTMLElement` fits). */
export interface KeyTarget {
  tagName: string;
  type?: string;
  isContentEditable?: boolean;
}

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  altKey: boolean;
  metaKey: boolean;
  target: KeyTarget | null;
}

/**
 * The shortcut a key press means, if any. Typing in text fields (and type-ahead in a select)
 * and combinations with Ctrl, Alt or Meta (browser and screen reader commands) are left alone.
 */
export function shortcutFor(press: KeyPress): Shortcut | null {
  if (press.ctrlKey || press.altKey || press.metaKey || takesText(press.target)) return null;
  return KEYS[press.key.toLowerCase()] ?? null;
}

function takesText(target: KeyTarget | null): boolean {
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && !NON_TEXT_INPUTS.includes(target.type ?? 'text');
}
