// Command rekog is rekog's main wrapped in pprof (see package prof), for
// `go run ./app/bench -profile DIR` only.
package main

import (
	"imagelabel/app/bench/profiled/prof"
	"imagelabel/app/rekog"
)

func main() { prof.Main("rekog", rekog.Run) }
