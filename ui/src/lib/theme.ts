// Light, dark, or follow the system. The core stores the choice (Settings.theme); localStorage keeps a copy so
// that the first paint, before the core answers, is already in the right theme.
export type Theme = 'system' | 'light' | 'dark';

const KEY = 'punctual.theme';

export function loadTheme(): Theme {
  try {
    const t = localStorage.getItem(KEY);
    return t === 'light' || t === 'dark' ? t : 'system';
  } catch {
    return 'system';
  }
}

export function saveTheme(t: Theme): void {
  try {
    localStorage.setItem(KEY, t);
  } catch {
    // Storage can be unavailable; the theme then lasts for this session.
  }
}

/** Sets data-theme on <html>; "system" removes it so prefers-color-scheme decides. */
export function applyTheme(t: Theme, root: HTMLElement = document.documentElement): void {
  if (t === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', t);
}
