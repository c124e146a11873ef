import { describe, expect, it } from 'vitest';
import { applyTheme, loadTheme, saveTheme } from './theme';

describe('theme', () => {
  it('sets data-theme for light and dark, and clears it for system', () => {
    const root = document.createElement('html');
    applyTheme('dark', root);
    expect(root.getAttribute('data-theme')).toBe('dark');
    applyTheme('system', root);
    expect(root.hasAttribute('data-theme'), 'system lets prefers-color-scheme decide').toBe(false);
  });
  it('remembers the choice', () => {
    saveTheme('light');
    expect(loadTheme()).toBe('light');
  });
});
