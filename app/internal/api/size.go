package api

import "strconv"

// FormatBytes returns n as a human-readable IEC size, the one format of
// every size in the services' messages (the client prints sizes the same
// way): below 1 KiB in bytes ("512 B"), exact multiples of a unit without
// decimals ("10 MiB"), anything else with one decimal ("9.6 MiB").
func FormatBytes(n int64) string {
	if n < 1024 && n > -1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	unit, div := 0, uint64(1024)
	// Move up while the value would print as 1024.0 or more of this unit.
	for unit < len(units)-1 && u >= div*1024-div/20 {
		unit++
		div *= 1024
	}
	var s string
	if u%div == 0 {
		s = strconv.FormatUint(u/div, 10)
	} else {
		s = strconv.FormatFloat(float64(u)/float64(div), 'f', 1, 64)
	}
	if neg {
		s = "-" + s
	}
	return s + " " + units[unit]
}
