// The page's half of the start-up trace (src-tauri/src/startup_trace.rs), for scripts/bench_desktop.py. Only
// when the shell set the flag (it does when PUNCTUAL_STARTUP_TRACE is set) does the page note when its script
// ran, when it mounted and when it first showed an event, and then send these with the browser's own load
// timings in one call: sent as they happen, the marks would slow the start they measure.
import { invoke } from '@tauri-apps/api/core';

declare global {
  interface Window {
    __PUNCTUAL_STARTUP_TRACE__?: boolean;
  }
}

const marks: [string, number][] = [];

function tracing(): boolean {
  return typeof window !== 'undefined' && window.__PUNCTUAL_STARTUP_TRACE__ === true;
}

/** Notes `step` at the time now, in milliseconds since the epoch, when tracing. */
export function mark(step: string): void {
  if (tracing()) marks.push([step, performance.timeOrigin + performance.now()]);
}

/** When tracing: waits until `selector` matches (an event is on the page) and one more frame, then sends. */
export function reportOnceShown(selector: string): void {
  if (!tracing()) return;
  const poll = () => {
    if (!document.querySelector(selector)) {
      requestAnimationFrame(poll);
      return;
    }
    mark('event in the DOM');
    requestAnimationFrame(() => {
      mark('next frame');
      setTimeout(send, 0);
    });
  };
  requestAnimationFrame(poll);
}

function send(): void {
  const at = (ms: number) => performance.timeOrigin + ms;
  const all: [string, number][] = [['navigation start', at(0)]];
  const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
  if (nav) {
    all.push(
      ['html requested', at(nav.requestStart)],
      ['html received', at(nav.responseEnd)],
      ['dom interactive', at(nav.domInteractive)],
      ['DOMContentLoaded end', at(nav.domContentLoadedEventEnd)],
      ['load end', at(nav.loadEventEnd)],
    );
  }
  for (const r of performance.getEntriesByType('resource') as PerformanceResourceTiming[]) {
    const name = r.name.replace(/^.*\//, '');
    all.push([`${name} requested`, at(r.startTime)], [`${name} received`, at(r.responseEnd)]);
  }
  for (const p of performance.getEntriesByType('paint')) all.push([p.name, at(p.startTime)]);
  all.push(...marks);
  all.sort((a, b) => a[1] - b[1]);
  void invoke('startup_marks', { marks: all }).catch(() => {});
}
