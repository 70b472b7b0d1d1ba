// Stops the test store jest-global-setup.ts started, if it started one.
export default async function stopTestStore(): Promise<void> {
  const child = globalThis.musicTestStore;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
