// Polling that waits for each answer, asks at most once a second, and pauses while the tab is hidden.

/** Call `tick` now and then every `interval` ms (>= 1000) after the previous call ended; returns `stop`. */
export function poll(tick, interval = 1000) {
  let stopped = false;
  let timer = null;
  const period = Math.max(1000, interval);
  const run = async () => {
    timer = null;
    if (stopped) return;
    if (document.visibilityState === "hidden") return;  // resumed by the visibility listener
    let again = true;
    try {
      again = (await tick()) !== false;
    } catch {
      again = true;
    }
    if (!stopped && again) timer = setTimeout(run, period);
  };
  const onVisible = () => {
    if (document.visibilityState === "visible" && timer === null && !stopped) run();
  };
  document.addEventListener("visibilitychange", onVisible);
  run();
  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
  };
}
