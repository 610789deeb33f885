// Command client talks to the imagelabel API: it uploads images (several in
// parallel, with progress), prints their labels, and fetches labels again for
// an image already stored, and checks a deployed stack end to end (smoke).
//
//	go run ./app/client [flags] info
//	go run ./app/client [flags] upload FILE...
//	go run ./app/client [flags] labels KEY
//	go run ./app/client [flags] smoke
//
// The API URL comes from --url, else $API_URL, else the output apiUrl of the
// Pulumi stack (--stack, --project-dir) read with `pulumi stack output --json`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(report(err, os.Stderr))
}

// report prints run's error on stderr, unless the command already printed
// its summary (a reportedError), and returns the exit status: 0, 1 for a
// failure, 2 for a usage error.
func report(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "client:", err)
		return 2
	case errors.As(err, new(reportedError)):
		return 1
	default:
		fmt.Fprintln(stderr, "client:", err)
		return 1
	}
}

// errUsage marks errors in how the command was called (exit status 2).
var errUsage = errors.New("usage")

// reportedError is a failure the command has already summed up for the
// user (upload's "0 uploaded, 1 failed", smoke's "FAILED at hop"): main
// exits 1 without a second summary.
type reportedError struct{ error }

func (e reportedError) Unwrap() error { return e.error }

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s (see --help)", errUsage, fmt.Sprintf(format, args...))
}

const usage = `Usage: client [flags] COMMAND [ARGS]

Commands:
  info             show which service answers at the API URL
  upload FILE...   upload JPEG/PNG images (in parallel) and print their labels
  labels KEY       print the labels of an image already stored (e.g. after a failed labeling)
  smoke            check the API end to end with a built-in image, hop by hop; on failure,
                   name the hop and what to look at (log groups, aws/pulumi commands)

The API URL is --url, else $API_URL, else the output apiUrl of the Pulumi
stack --stack in --project-dir (needs the pulumi CLI and a deployed stack).
Flags may come before or after the command.

Flags:
`

// config is everything the flags say.
type config struct {
	url          string
	stack        string
	projectDir   string
	json         bool
	maxLabels    int
	maxLabelsSet bool
	minConf      float64
	minConfSet   bool
	concurrency  int
	timeout      time.Duration
	sign         bool
}

// run is the whole program; main only supplies the OS. stdin is unused today
// but part of the signature so a future "upload -" needs no plumbing change.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	_ = stdin
	var c config
	fs := newFlagSet(&c, stderr)

	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if len(pos) == 0 {
		fs.Usage()
		return usageErr("no command given")
	}
	// 0 is not "unset": --max-labels 0 is refused like any value outside 1..1000.
	fs.Visit(func(f *flag.Flag) { c.maxLabelsSet = c.maxLabelsSet || f.Name == "max-labels" })
	if err := checkFlags(c); err != nil {
		return err
	}

	cmd, cmdArgs := pos[0], pos[1:]
	if err := checkCommand(c, cmd, cmdArgs); err != nil {
		return err
	}
	return dispatch(ctx, c, getenv, cmd, cmdArgs, stdout, stderr)
}

// newFlagSet declares the flags, which parse into c, and the usage text.
func newFlagSet(c *config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.url, "url", "", "API base URL (default $API_URL, else the stack output apiUrl)")
	fs.StringVar(&c.stack, "stack", "dev", "Pulumi stack to read apiUrl from when neither --url nor API_URL is set")
	fs.StringVar(&c.projectDir, "project-dir", ".", "directory of the Pulumi project (Pulumi.yaml)")
	fs.BoolVar(&c.json, "json", false, "print the API's JSON instead of tables (upload: one line per FILE, in order, each with \"file\")")
	fs.IntVar(&c.maxLabels, "max-labels", 0, "most labels per image, 1..1000 (default: the service's, 10)")
	fs.Func("min-confidence", "least confidence of a label in percent, 0..100 (default: the service's, 70)", func(s string) error {
		if _, err := fmt.Sscanf(s, "%g", &c.minConf); err != nil {
			return fmt.Errorf("not a number: %q", s)
		}
		c.minConfSet = true
		return nil
	})
	fs.IntVar(&c.concurrency, "concurrency", 4, "uploads in flight at once")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Minute, "limit for each request, including labeling")
	fs.BoolVar(&c.sign, "sign", false, "sign requests (SigV4) with the credentials the AWS SDK finds (default: when the stack output apiAuth is iam)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// checkFlags rejects flag values out of range, before any request is made.
func checkFlags(c config) error {
	if c.maxLabelsSet && (c.maxLabels < 1 || c.maxLabels > 1000) {
		return usageErr("--max-labels %d: must be from 1 to 1000", c.maxLabels)
	}
	if c.minConfSet && (c.minConf < 0 || c.minConf > 100 || c.minConf != c.minConf) {
		return usageErr("--min-confidence %g: must be from 0 to 100", c.minConf)
	}
	if c.concurrency < 1 {
		return usageErr("--concurrency %d: must be at least 1", c.concurrency)
	}
	if c.timeout <= 0 {
		return usageErr("--timeout %s: must be positive", c.timeout)
	}
	return nil
}

// checkCommand rejects an unknown command, or arguments and flags that do
// not fit it, before the API URL is resolved.
func checkCommand(c config, cmd string, cmdArgs []string) error {
	switch cmd {
	case "info", "upload", "labels", "smoke":
	default:
		return usageErr("unknown command %q (want info, upload, labels or smoke)", cmd)
	}
	switch {
	case (cmd == "info" || cmd == "smoke") && len(cmdArgs) != 0:
		return usageErr("%s takes no arguments", cmd)
	case cmd == "upload" && len(cmdArgs) == 0:
		return usageErr("upload needs at least one FILE")
	case cmd == "smoke" && c.json:
		return usageErr("smoke has no --json output")
	case cmd == "labels" && len(cmdArgs) != 1:
		return usageErr("labels takes exactly one KEY, like uploads/<sha256>.jpg")
	}
	return nil
}

// dispatch resolves the API URL and runs the command against it.
func dispatch(ctx context.Context, c config, getenv func(string) string, cmd string, cmdArgs []string, stdout, stderr io.Writer) error {
	tgt, err := resolveTarget(ctx, c, getenv)
	if err != nil {
		return err
	}
	cl := &apiClient{base: tgt.base, timeout: c.timeout}
	if wantSigning(c, tgt) {
		if cl.signer, err = newSigner(ctx, tgt); err != nil {
			return err
		}
		cl.http = &http.Client{Transport: cl.signer}
	}
	switch cmd {
	case "info":
		return cmdInfo(ctx, cl, c, stdout, stderr)
	case "labels":
		return cmdLabels(ctx, cl, c, cmdArgs[0], stdout, stderr)
	case "smoke":
		return cmdSmoke(ctx, cl, c, tgt, stdout)
	default:
		return cmdUpload(ctx, cl, c, cmdArgs, stdout, stderr)
	}
}

// parseInterleaved parses flags anywhere among the positional arguments
// ("upload a.png --json b.png"); everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return append(pos, tail...), nil
}

// quoteArg quotes s for a shell command line the user may copy, when needed.
func quoteArg(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
