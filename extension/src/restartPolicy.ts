// When the server dies: restart it a few times, then stop and let the user decide.

export interface RestartDecision {
  restart: boolean;
  /** crashes within the window, this one included */
  crashes: number;
}

export class RestartPolicy {
  private times: number[] = [];

  constructor(
    readonly maxRestarts = 3,
    readonly windowMs = 3 * 60_000,
  ) {}

  /** Record a crash at `now` (ms) and say whether to restart. */
  crashed(now: number): RestartDecision {
    this.times = this.times.filter((t) => now - t < this.windowMs);
    this.times.push(now);
    return { restart: this.times.length <= this.maxRestarts, crashes: this.times.length };
  }

  /** A restart the user asked for starts the count afresh. */
  reset(): void {
    this.times = [];
  }
}
