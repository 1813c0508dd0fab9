/** What `run` throws, for assertions on its class and fields; a `run` that returns fails the test here. */
export function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    return e;
  }
  throw new Error(`expected a throw from ${run.toString()}, but it returned`);
}
