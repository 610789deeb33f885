// Command upload is upload's main wrapped in pprof (see package prof), for
// `go run ./app/bench -profile DIR` only.
package main

import (
	"imagelabel/app/bench/profiled/prof"
	"imagelabel/app/upload"
)

func main() { prof.Main("upload", upload.Run) }
