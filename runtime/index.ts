/** chronots: Future, async, the dispatcher, timers, combinators and errors. */
export { async, type AsyncFunction, __chronots } from "./async.js";
export { Future, newFuture, setDebug, type FutureState, type ValueOf } from "./future.js";
export {
  Dispatcher,
  type DispatcherOptions,
  getGlobalDispatcher,
  setGlobalDispatcher,
  poll,
  waitFor,
  waitForAsync,
  runForever,
  callSoon,
  now,
  addTimer,
  removeTimer,
  register,
  unregister,
  addReader,
  removeReader,
  addWriter,
  removeWriter,
  addSignal,
  removeSignal,
  trackers,
} from "./dispatcher.js";
export type { PollerKind } from "./poller/poller.js";
export type { SignalName } from "./poller/signals.js";
export { fromPromise } from "./promise.js";
export { TimerHandle } from "./timerheap.js";
export { sleepAsync, withTimeout, wait } from "./timers.js";
export { allFutures, allFinished, one } from "./combinators.js";
export { asyncCheck, asyncDiscard } from "./discard.js";
export { FutureDefect, FuturePendingError, CancelledError, AsyncTimeoutError, DeadlockError, OSError } from "./errors.js";
