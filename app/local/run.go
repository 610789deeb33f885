package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// Defaults. upload's port is the deployment's (CONTRACT: upload 8080), the
// one users type. rekog and localaws take any free port unless asked: they
// are printed in the banner, and fixed defaults (9090, 4566, LocalStack's
// too) made a second run, or a run next to LocalStack, fail.
const (
	defaultUploadPort = 8080
	defaultRekogPort  = 0
	defaultAWSPort    = 0
	defaultBucket     = "imagelabel-local"
	defaultDataDir    = ".localdata"
	// defaultRegion: localaws answers for any region; one is required by the SDK.
	defaultRegion = "us-east-1"
	// defaultMaxUpload is the API Gateway HTTP API payload limit (10 MB), the
	// services' own default.
	// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
	defaultMaxUpload = 10 << 20
	// fakeKey is the static access key id and secret the services sign with;
	// localaws does not check signatures (CONTRACT: localaws).
	fakeKey = "local"
)

// usageError is a bad command line: main exits 2 for it.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// config is the parsed command line.
type config struct {
	port      int    // upload (published port in the container run)
	rekogPort int    // in-process only
	awsPort   int    // in-process only
	dataDir   string // in-process only; "" = in memory
	bucket    string
	logLevel  string
	maxUpload int64
	jsonLogs  bool

	containers  bool
	buildImages bool
	keep        bool // keep containers and networks on exit (debugging)
}

// parseFlags parses args into a config. It returns flag.ErrHelp for -h,
// after printing the usage to stderr, and a usageError for anything else
// wrong, which it does not print: main prints it, once, on one line.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := newFlagSet(&c, getenv, stderr)
	// The flag package prints a parse error, then the usage; the error
	// would then appear twice (main prints it too) with the usage between.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fs.Usage()
			return c, err
		}
		return c, usageError{err.Error() + " (see -h)"}
	}
	if err := checkConfig(&c, fs); err != nil {
		return c, err
	}
	return c, nil
}

// newFlagSet declares the flags, which parse into c, and the usage text.
// -log-level defaults to $LOG_LEVEL, else info.
func newFlagSet(c *config, getenv func(string) string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./app/local [flags]

Runs the whole imagelabel system on this machine with no AWS account: upload
and rekog wired as in AWS, against localaws (a local S3 + Rekognition).
Everything listens on 127.0.0.1 only. Ctrl-C stops it.

Modes:
  (default)      one process: localaws, rekog and upload in this program
  -containers    the deploy's images on Docker: private network, only upload published
  -build-images  build and tag imagelabel/<svc>:local (for compose.yaml), then exit

Flags:
`)
		fs.PrintDefaults()
	}
	fs.IntVar(&c.port, "port", defaultUploadPort, "upload's port on 127.0.0.1: the browser page and the API (0 = any free port)")
	fs.IntVar(&c.rekogPort, "rekog-port", defaultRekogPort, "rekog's port on 127.0.0.1 (0 = any free port, shown in the banner; not used with -containers)")
	fs.IntVar(&c.awsPort, "aws-port", defaultAWSPort, "localaws's port on 127.0.0.1 (0 = any free port, shown in the banner; not used with -containers)")
	fs.StringVar(&c.dataDir, "data", defaultDataDir, `directory where localaws keeps objects as plain files, <data>/<bucket>/<key> ("" = in memory; not used with -containers)`)
	fs.StringVar(&c.bucket, "bucket", defaultBucket, "bucket name the services use")
	level := getenv("LOG_LEVEL")
	if level == "" {
		level = "info"
	}
	fs.StringVar(&c.logLevel, "log-level", level, "services' log level: debug, info, warn or error (LOG_LEVEL)")
	fs.Int64Var(&c.maxUpload, "max-upload-bytes", defaultMaxUpload, "largest upload the API accepts, in bytes (MAX_UPLOAD_BYTES)")
	fs.BoolVar(&c.jsonLogs, "json-logs", false, "print the services' JSON log lines as they are instead of re-rendering them")
	fs.BoolVar(&c.containers, "containers", false, "run the services as containers on Docker, built from the deploy's Dockerfiles")
	fs.BoolVar(&c.buildImages, "build-images", false, "build the images, tag them imagelabel/<svc>:local for compose.yaml, and exit")
	fs.BoolVar(&c.keep, "keep", false, "with -containers: leave the containers and networks in place on exit, for debugging")
	return fs
}

// checkConfig checks the parsed command line in fs as a whole: no stray
// arguments, values in range, and flags that fit the mode. It lowercases
// c.logLevel. Errors are usageErrors.
func checkConfig(c *config, fs *flag.FlagSet) error {
	bad := func(format string, a ...any) error {
		return usageError{fmt.Sprintf(format, a...) + " (see -h)"}
	}
	if fs.NArg() > 0 {
		return bad("unexpected argument %q (flags only)", fs.Arg(0))
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"port", c.port}, {"rekog-port", c.rekogPort}, {"aws-port", c.awsPort}} {
		if p.v < 0 || p.v > 65535 {
			return bad("-%s %d: want 0..65535", p.name, p.v)
		}
	}
	if c.containers && c.buildImages {
		return bad("-containers and -build-images are separate steps: pick one")
	}
	// Say so rather than silently ignore a flag that does not apply.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.containers || c.buildImages {
		mode := map[bool]string{true: "-containers", false: "-build-images"}[c.containers]
		for _, name := range []string{"rekog-port", "aws-port", "data"} {
			if set[name] {
				return bad("-%s does not apply to %s (rekog and localaws are not published there, and localaws keeps objects in memory)", name, mode)
			}
		}
	}
	if c.keep && !c.containers {
		return bad("-keep applies only to -containers")
	}
	if _, err := parseLevel(c.logLevel); err != nil {
		return bad("-log-level %q: want debug, info, warn or error", c.logLevel)
	}
	c.logLevel = strings.ToLower(c.logLevel)
	if c.maxUpload < 1 {
		return bad("-max-upload-bytes %d: want a positive number", c.maxUpload)
	}
	if strings.TrimSpace(c.bucket) == "" {
		return bad("-bucket: want a bucket name")
	}
	return nil
}

// parseLevel maps a LOG_LEVEL value to a slog level.
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	if err != nil {
		return 0, fmt.Errorf("log level %q: %w", s, err)
	}
	return l, nil
}

// run is the program: main only supplies the process's context, arguments,
// environment and output streams, so tests drive it the same way.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first Ctrl-C, restore the default handling so that a second
	// one kills a shutdown that hangs.
	go func() {
		<-ctx.Done()
		stop()
	}()

	cfg, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	logs := &logMux{out: stderr, raw: cfg.jsonLogs}
	switch {
	case cfg.buildImages:
		_, err := buildImages(ctx, cfg, stdout, stderr, true)
		return err
	case cfg.containers:
		return runContainers(ctx, cfg, stdout, stderr, logs)
	default:
		return runInProcess(ctx, cfg, stdout, logs)
	}
}

// serviceEnv returns a getenv that answers from m only: each service sees
// exactly the settings it would get in its task definition, and nothing from
// the shell that started this program.
func serviceEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// itoa is strconv.Itoa, short for building environments.
func itoa(n int) string { return strconv.Itoa(n) }
