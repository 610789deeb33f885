package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report is the whole output: the machine, the binaries' sizes, every run,
// and per size and concurrency the median of its runs.
type report struct {
	Machine  machineInfo      `json:"machine"`
	Binaries map[string]int64 `json:"binaryBytes"`
	Runs     []result         `json:"runs"`
	Medians  []result         `json:"medians"`
}

type machineInfo struct {
	CPUs      int    `json:"cpus"`
	MemTotal  string `json:"memTotal"`
	GoVersion string `json:"goVersion"`
	Kernel    string `json:"kernel"`
	LoadAvg   string `json:"loadAvgAtStart"`
}

func machine() machineInfo {
	read := func(path string) string {
		b, _ := os.ReadFile(path)
		return strings.TrimSpace(string(b))
	}
	m := machineInfo{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		Kernel: read("/proc/sys/kernel/osrelease"), LoadAvg: read("/proc/loadavg")}
	for line := range strings.SplitSeq(read("/proc/meminfo"), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			m.MemTotal = strings.TrimSpace(v)
		}
	}
	return m
}

// median returns the field-wise median of runs (all of one size and
// concurrency): each figure is the median of that figure, so a median row
// need not be one actual run.
func median(runs []result) result {
	m := runs[0]
	dur := func(f func(*result) *time.Duration) {
		*f(&m) = medianOf(runs, func(r result) time.Duration { return *f(&r) })
	}
	num := func(f func(*result) *float64) {
		*f(&m) = medianOf(runs, func(r result) float64 { return *f(&r) })
	}
	i64 := func(f func(*result) *int64) {
		*f(&m) = medianOf(runs, func(r result) int64 { return *f(&r) })
	}
	for _, lr := range []func(*result) *loadResult{
		func(r *result) *loadResult { return &r.System }, func(r *result) *loadResult { return &r.Ceiling },
	} {
		dur(func(r *result) *time.Duration { return &lr(r).P50 })
		dur(func(r *result) *time.Duration { return &lr(r).P90 })
		dur(func(r *result) *time.Duration { return &lr(r).P99 })
		dur(func(r *result) *time.Duration { return &lr(r).Elapsed })
		num(func(r *result) *float64 { return &lr(r).PerSecond })
		lr(&m).Errors = 0
		for _, r := range runs {
			lr(&m).Errors += lr(&r).Errors // errors add up: none may hide in a median
		}
	}
	num(func(r *result) *float64 { return &r.Ratio })
	num(func(r *result) *float64 { return &r.P99Ratio })
	for _, ps := range []func(*result) *procStats{
		func(r *result) *procStats { return &r.Upload }, func(r *result) *procStats { return &r.Rekog },
		func(r *result) *procStats { return &r.Localaws },
	} {
		dur(func(r *result) *time.Duration { return &ps(r).Startup })
		i64(func(r *result) *int64 { return &ps(r).PeakRSS })
		num(func(r *result) *float64 { return &ps(r).CPUPer1000 })
	}
	return m
}

func medianOf[T int64 | float64 | time.Duration](runs []result, f func(result) T) T {
	v := make([]T, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (rep report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }

func (rep report) writeTable(w io.Writer) {
	m := rep.Machine
	fmt.Fprintf(w, "machine: %d CPUs, %s, %s, linux %s, load average at start %s\n",
		m.CPUs, m.MemTotal, m.GoVersion, m.Kernel, m.LoadAvg)
	fmt.Fprintf(w, "binaries (= images FROM scratch): upload %s MiB, rekog %s MiB, localaws %s MiB\n\n",
		mib(rep.Binaries["upload"]), mib(rep.Binaries["rekog"]), mib(rep.Binaries["localaws"]))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "size\tconc\tn\tup/s\tceil/s\tratio\tp50 ms\tp90 ms\tp99 ms\tceil p99\tp99 x\terrors\t"+
		"RSS up MiB\tRSS rk MiB\tCPU s/1k up\tCPU s/1k rk\tstart up ms\tstart rk ms\t")
	for _, r := range rep.Medians {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.2f\t%s\t%s\t%s\t%s\t%.2f\t%d/%d\t%s\t%s\t%.2f\t%.2f\t%s\t%s\t\n",
			r.Size, r.Concurrency, r.System.N, r.System.PerSecond, r.Ceiling.PerSecond, r.Ratio,
			ms(r.System.P50), ms(r.System.P90), ms(r.System.P99), ms(r.Ceiling.P99), r.P99Ratio,
			r.System.Errors, r.Ceiling.Errors, mib(r.Upload.PeakRSS), mib(r.Rekog.PeakRSS),
			r.Upload.CPUPer1000, r.Rekog.CPUPer1000, ms(r.Upload.Startup), ms(r.Rekog.Startup))
	}
	_ = tw.Flush()
	for _, r := range rep.Runs {
		if r.System.FirstError != "" || r.Ceiling.FirstError != "" {
			fmt.Fprintf(w, "errors in %s c=%d: system: %s; ceiling: %s\n", r.Size, r.Concurrency,
				r.System.FirstError, r.Ceiling.FirstError)
		}
	}
	fmt.Fprintln(w, "\nerrors: system/ceiling. Medians of the runs; CPU is utime+stime per 1,000 uploads; RSS is VmHWM.")
}
