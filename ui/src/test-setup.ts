import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/svelte';
import { afterEach } from 'vitest';

// Each test starts with an empty document.
afterEach(() => cleanup());

// findBy and waitFor give up after 5 s rather than 1 s: the calendar grid mounts slowly on a busy machine.
configure({ asyncUtilTimeout: 5000 });

// jsdom has no layout, so no ResizeObserver; the calendar grid only needs it to exist.
if (!('ResizeObserver' in globalThis)) {
  class NoLayoutResizeObserver {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  }
  (globalThis as unknown as { ResizeObserver: unknown }).ResizeObserver = NoLayoutResizeObserver;
}

// Nor IntersectionObserver, which the time grid (day and week views) creates.
if (!('IntersectionObserver' in globalThis)) {
  class NoLayoutIntersectionObserver {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
    takeRecords(): [] {
      return [];
    }
  }
  (globalThis as unknown as { IntersectionObserver: unknown }).IntersectionObserver = NoLayoutIntersectionObserver;
}

// jsdom's Blob has no text() (WebKit's has); the import reads chosen files with it.
if (typeof Blob.prototype.text !== 'function') {
  Blob.prototype.text = function text(this: Blob): Promise<string> {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.onerror = () => reject(reader.error);
      reader.readAsText(this);
    });
  };
}
