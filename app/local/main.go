// Command local runs the whole imagelabel system on one machine, with no AWS
// account: the upload and rekog services wired exactly as in AWS, against
// app/localaws, a local stand-in for S3 and Rekognition.
//
//	go run ./app/local                  # one process, listeners on 127.0.0.1
//	go run ./app/local -containers      # the deploy's images on Docker, private network
//	go run ./app/local -build-images    # build and tag imagelabel/<svc>:local for compose.yaml
//
// By default upload listens on http://127.0.0.1:8080/ (the browser page and
// the API), and localaws keeps objects as plain files under ./.localdata.
// Ctrl-C stops everything gracefully. See docs/local.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, new(usageError)):
		fmt.Fprintf(os.Stderr, "local: %v\n", err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "local: %v\n", err)
		os.Exit(1)
	}
}
