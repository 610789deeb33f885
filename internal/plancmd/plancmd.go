// Package plancmd is `go run . plan [--json] [--stack NAME] [--set
// key=value ...]`: it reads the stack's Pulumi.<stack>.yaml, applies the
// --set overrides, runs the offline plan (imagelabel/internal/plan) and
// prints it as a tree or as JSON, with the cost estimate
// (imagelabel/internal/cost) after it or as its "cost" object.
package plancmd

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"imagelabel/internal/cost"
	"imagelabel/internal/plan"
	"imagelabel/internal/stackconfig"
)

// setFlags collects repeated --set key=value flags.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

// ErrHelp is returned by Run after it printed its help; ErrUsage wraps
// errors in how it was called.
var (
	ErrHelp  = errors.New("help requested")
	ErrUsage = errors.New("usage")
)

// usageError is an error in how plan was called: a flag, an argument or a
// --set it cannot take. It matches ErrUsage without saying "usage: ".
type usageError struct{ error }

func (e usageError) Is(target error) bool { return target == ErrUsage }
func (e usageError) Unwrap() error        { return e.error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

const planUsage = "usage: go run . plan [--json] [--stack NAME] [--set key=value ...]"

// Run implements `go run . plan [--json] [--stack NAME] [--set key=value ...]`:
// the program under mocks with the stack's config, offline (no credentials,
// no Docker, no network). dir holds Pulumi.<stack>.yaml. With -h/--help it
// prints the flags and config keys to stdout and returns ErrHelp.
func Run(args []string, dir string, stdout io.Writer) error {
	flags := flag.NewFlagSet("plan", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	asJSON := flags.Bool("json", false, "print the plan as JSON instead of a tree")
	stack := flags.String("stack", "dev", "stack whose Pulumi.<stack>.yaml config is used")
	var sets setFlags
	flags.Var(&sets, "set", "override a config `key=value` of the stack file (repeatable)")
	if err := flags.Parse(args); errors.Is(err, flag.ErrHelp) {
		if err := printPlanHelp(stdout, flags); err != nil {
			return err
		}
		return ErrHelp
	} else if err != nil {
		return usagef("%w (%s; --help lists the flags and config keys)", err, planUsage)
	}
	if flags.NArg() > 0 {
		return usagef("unexpected argument %q (%s)", flags.Arg(0), planUsage)
	}
	config, err := plan.ReadStackConfig(dir, *stack)
	if err != nil {
		return err
	}
	overrides, err := applySets(config, sets)
	if err != nil {
		return err
	}
	res, err := plan.Model(*stack, config)
	if err != nil {
		return unlist(err)
	}
	plan.MarkPlaceholders(res, config["aws:region"])
	est, err := cost.ForPlan(res, config)
	if err != nil {
		return err
	}
	if *asJSON {
		return writePlanJSON(stdout, res, est)
	}
	if err := plan.WriteTree(stdout, *stack, overrides, res); err != nil {
		return err
	}
	return cost.Write(stdout, est)
}

// applySets applies --set key=value flags to config (keys fully qualified)
// and returns the overrides as given, in order; a key of this project that
// the program does not read is refused with the nearest known key.
func applySets(config map[string]string, sets []string) ([]string, error) {
	var applied []string
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--set %q: want key=value", kv)
		}
		if !strings.Contains(k, ":") {
			k = plan.Project + ":" + k
		}
		short := strings.TrimPrefix(k, plan.Project+":")
		if k != "aws:region" && (short == k || !stackconfig.IsKey(short)) {
			// Like an unknown flag: the command line names something
			// that does not exist (a bad value is a config error).
			return nil, usagef("--set %s: unknown config key %s; %s", kv, short, stackconfig.Suggest(short))
		}
		config[k] = v
		applied = append(applied, short+"="+v)
	}
	return applied, nil
}

// unlist returns the one error inside the list pulumi.RunErr wraps the
// program's error in (hashicorp/go-multierror: "1 error occurred:\n\t* ...",
// with blank lines), so that every problem prints in the format of
// stackconfig.Errors or as a plain sentence; a longer list is joined one
// error a line.
func unlist(err error) error {
	l, ok := err.(interface{ WrappedErrors() []error })
	if !ok {
		return err
	}
	var errs []error
	for _, e := range l.WrappedErrors() {
		errs = append(errs, unlist(e))
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// printPlanHelp writes plan's help: what it does, the flags, and every
// config key with its default and range (from stackconfig.Keys).
func printPlanHelp(w io.Writer, fs *flag.FlagSet) error {
	var b strings.Builder
	b.WriteString(planUsage + "\n\n")
	b.WriteString("Runs this Pulumi program offline under mocks with a stack's config and prints\n" +
		"every resource it would declare. No AWS account, credentials, Docker or network:\n" +
		"ids, ARNs and URLs are placeholders the mocks make up.\n\nFlags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		name, use := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s\n      %s", strings.TrimSpace(f.Name+" "+name), use)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	b.WriteString("\nConfig keys (namespace " + stackconfig.Namespace + "; set with `pulumi config set KEY VALUE`,\n" +
		"or here with --set KEY=VALUE; aws:region is also accepted):\n")
	for _, k := range stackconfig.Keys {
		fmt.Fprintf(&b, "  %s (default %s; %s)\n      %s\n", k.Name, k.Default, k.Range, k.Meaning)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write help: %w", err)
	}
	return nil
}

// planWithCost is the --json document: the plan and its "cost".
type planWithCost struct {
	*plan.Result
	Cost *cost.Estimate `json:"cost"`
}

// writePlanJSON encodes the plan with its cost estimate.
func writePlanJSON(w io.Writer, res *plan.Result, c *cost.Estimate) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(planWithCost{Result: res, Cost: c}); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}
