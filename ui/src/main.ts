import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { withPrefetch } from './ipc/prefetch';
import { tauriBackend } from './ipc/tauri';
import { STARTUP_CALLS } from './lib/startup';
import { mark, reportOnceShown } from './ipc/startupTrace';

mark('script runs');

// First, so that the core answers the first screen's reads while the page mounts.
const backend = withPrefetch(tauriBackend(), STARTUP_CALLS);
const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target, props: { backend } });
mark('mounted');
reportOnceShown('[data-testid="agenda-event"]');
