/** The machine's load during a run, as meta.json keeps it (taken by load.ts). */
export interface BusyProcess {
  pid: number;
  command: string;
  /** Share of one core used during the sampling window, percent. */
  cpuPercent: number;
}

export interface LoadSnapshot {
  /** ISO time of the snapshot. */
  at: string;
  /** 1, 5 and 15 minute load averages. */
  loadavg: number[];
  /** `some` line of /proc/pressure/cpu: share of time some task waited for a CPU; null without PSI. */
  cpuPressure: { avg10: number; avg60: number; totalUs: number } | null;
  /** CPU seconds of the whole machine (all cores), busy and in total, from /proc/stat. */
  machineBusy: number | null;
  machineTotal: number | null;
  /** CPU seconds of this process and its waited-for children (the benchmarks it ran). */
  own: number | null;
  /** Other processes busy during a short look at the start or end. */
  busy: BusyProcess[];
}

/** What meta.json keeps of the load during the run (its latest session, when resumed). */
export interface RunLoad {
  cores: number;
  start: LoadSnapshot;
  end?: LoadSnapshot & {
    /** Cores other processes used on average between start and end (machine CPU minus this run's). */
    otherCores: number | null;
    /** Share of the time some task waited for a CPU between start and end (PSI); null without PSI. */
    cpuStallShare: number | null;
  };
}
