// Small DOM helpers: the page is plain TypeScript over the markup in index.html.

/** The element with `id`; the markup and the code ship together, so a missing one is a bug. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element as T;
}

type Child = Node | string | null | undefined | false;

/** Builds an element: `h('li', {className: 'clip'}, h('h3', {}, title))`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const { dataset, ...rest } = props;
  const element = Object.assign(document.createElement(tag), rest);
  Object.assign(element.dataset, dataset ?? {});
  for (const child of children) if (child) element.append(child);
  return element;
}

/** Says `message` to screen readers through the page's polite live region. */
export function announce(message: string): void {
  const region = byId('announcer');
  region.textContent = '';
  // A fresh text node after clearing makes repeated messages be read again.
  requestAnimationFrame(() => (region.textContent = message));
}
