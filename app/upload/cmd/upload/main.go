// Command upload runs the upload service (see package imagelabel/app/upload);
// with -healthcheck it probes its own /healthz and exits 0 or 1, the ECS
// container health check of a scratch image.
package main

import (
	"context"
	"fmt"
	"os"

	// CA roots compiled in: the image is FROM scratch and has no /etc/ssl.
	_ "golang.org/x/crypto/x509roots/fallback"

	"imagelabel/app/upload"
)

func main() {
	if err := upload.Run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "upload:", err)
		os.Exit(1)
	}
}
