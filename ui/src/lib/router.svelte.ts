// Hash routing: "#/chargers/CP1" → route.path = "/chargers/CP1".
export const route = $state({
  path: currentPath(),
});

function currentPath(): string {
  const h = typeof location === 'undefined' ? '' : location.hash.replace(/^#/, '');
  const path = h.split('?')[0] || '/';
  return path.startsWith('/') ? path : `/${path}`;
}

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => {
    route.path = currentPath();
  });
}

/** Link target for a path, e.g. href={link('/chargers/CP1')}. */
export function link(path: string): string {
  return `#${path.split('/').map((p, i) => (i === 0 ? p : encodeURIComponent(decodeURIComponent(p)))).join('/')}`;
}

export function navigate(path: string): void {
  location.hash = link(path);
}

/** Matches "/chargers/:id" against route.path; returns the params or null. */
export function match(pattern: string, path = route.path): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w.endsWith('*')) {
      params[w.slice(1, -1)] = have.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    const h = have[i];
    if (h === undefined) return null;
    if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(h);
    else if (w !== h) return null;
  }
  return have.length === want.length ? params : null;
}
