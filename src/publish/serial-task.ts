// One asynchronous task run one at a time, for publishers that write to the
// API server off the loop (Gateway Services, Gateway status): a kick while
// it runs has it run once more when it ends, however many kicks came; a
// retry is one timer at a time; after stop() nothing runs again.

export class SerialTask {
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;

  /** `onError` gets what a run threw; the next kick runs as usual. */
  constructor(
    private readonly task: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  get stopped(): boolean {
    return this.#stopped;
  }

  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.task()
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  /** A kick in `ms`, unless one is already waiting or the task stopped. */
  retryIn(ms: number): void {
    if (this.#retry || this.#stopped) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.kick();
    }, ms);
  }

  /** No run after this one; resolves when the run under way (and a rerun it started) ends. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
    while (this.#running) await this.#running;
  }
}
