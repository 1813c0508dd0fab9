/**
 * What a workload is: named sides run by the runner, and the ratios between them that have goals.
 *
 * A side's `run` does the whole workload once. For a "time" workload the runner times the call,
 * unless `run` returns its own time in ms (a worker process timing itself); for the others `run`
 * measures inside (a child process, a fixed-duration load) and returns its figure. A side may
 * also report secondary figures with each sample (named in `Workload.figures`), which are printed
 * beside the main one and can be compared too.
 */
export type Metric = "time" | "bytes" | "throughput";

/** One sample's main figure and its secondary figures. */
export interface Sample {
  value: number;
  figures: Record<string, number>;
}

export interface Side {
  name: string;
  /** Runs the workload once; returns the figure (optional for "time": then the runner's clock counts). */
  run(): Promise<number | Sample | void> | number | Sample | void;
}

/** `over / under` of the two sides' figures, with the goal it must meet. */
export interface Comparison {
  over: string;
  under: string;
  /** A secondary figure to compare instead of the main one. */
  figure?: string;
  goal?: { op: ">=" | "<="; value: number };
}

export interface Workload {
  id: string;
  title: string;
  metric: Metric;
  /** Unit of the figures `run` returns ("ms" for time). */
  unit: string;
  /** Secondary figures every sample reports, by name (the name includes the unit). */
  figures?: string[];
  sides: Side[];
  comparisons: Comparison[];
  /** Fewer rounds than the run's default, for workloads whose one sample takes seconds. */
  maxRounds?: number;
  /** Warm-up runs per side instead of the run's default: 0 where every sample is a fresh process. */
  warmup?: number;
  /** Released after the last round (servers, temp dirs). */
  close?(): Promise<void> | void;
}

/** Sizes and round counts: the full run, or `--quick` which only proves the suite runs. */
export interface Scale {
  quick: boolean;
  rounds: number;
  warmup: number;
  /** Full size × factor (1, or small under --quick). */
  n(full: number, quick: number): number;
}
