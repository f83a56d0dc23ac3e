// A clock for relative times ("3 min ago") and running durations; ticks every second while someone reads it.
export const ticker = $state({ now: Date.now() });

setInterval(() => {
  ticker.now = Date.now();
}, 1000);
