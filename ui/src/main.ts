import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { tauriBackend } from './ipc/tauri';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
mount(App, { target, props: { backend: tauriBackend() } });
