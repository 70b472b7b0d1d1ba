/** A promise to wait on and the function that releases it: what a test double holds an answer with until the test lets it go. */
export class Gate {
  private release: (() => void) | null = null;
  private promise: Promise<void> = Promise.resolve();

  close(): void {
    if (this.release) return;
    this.promise = new Promise<void>((resolve) => (this.release = resolve));
  }

  open(): void {
    this.release?.();
    this.release = null;
  }

  wait(): Promise<void> {
    return this.promise;
  }
}
