import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

// Installable app: the service worker (public/sw.js) caches the app shell only, never API answers.
// Registered here, not in an inline script, so the Content-Security-Policy can forbid inline scripts.
if ('serviceWorker' in navigator) addEventListener('load', () => navigator.serviceWorker.register('/sw.js').catch(() => {}));

export default mount(App, { target });
