// Command fedtoken-mock serves a mock of the federated-identity token endpoint.
//
// Usage:
//
//	fedtoken-mock [flags]                serve (the default command)
//	fedtoken-mock validate [flags] [DIR] check scenario files as start-up would
//	fedtoken-mock healthcheck [flags]    ask a running instance for health (exit 0/1)
//	fedtoken-mock version                print the version
//	fedtoken-mock help                   print this help
//
// Every flag has an environment fallback (FEDTOKEN_MOCK_<NAME>); a flag beats the environment,
// which beats the default. Run `fedtoken-mock help` for the list.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gin-gonic/gin"
)

// Exit codes. They are part of the command's interface: scripts and orchestrators branch on them.
const (
	exitOK       = 0
	exitFailure  = 1 // validate found problems, healthcheck failed, the server failed while serving
	exitUsage    = 2 // bad flag or environment value, unknown command, port in use, scenario load errors
	exitCut      = 3 // shutdown timed out and in-flight requests were cut
	exitForced   = 4 // a second signal forced exit before shutdown finished
	programName  = "fedtoken-mock"
	envPrefix    = "FEDTOKEN_MOCK_"
	defaultAddr  = ":8080"
	healthPath   = "/__admin/health"
	helpHintText = "run 'fedtoken-mock help' for usage"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); empty means "ask the build info".
var version string

func main() {
	err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil)
	os.Exit(exitCode(err, os.Stderr))
}

// exitError carries the process exit code for an error that ends run.
type exitError struct {
	code int
	err  error // nil when the cause was already printed (e.g. every scenario problem on stderr)
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err with an exit code; a nil err stays nil.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// exitCode prints err (one line, no stack) and returns the code it carries; plain errors exit 1.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	code := exitFailure
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	}
	fmt.Fprintf(stderr, "%s: %v\n", programName, err)
	return code
}

// readyFunc is told the bound endpoint and admin addresses once the server listens (admin is ""
// when the admin API shares the endpoint's port). Tests use it instead of scraping logs.
type readyFunc func(addr, adminAddr string)

// run is the whole program: it parses args and the environment (read only through getenv),
// dispatches the command and returns an error carrying the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready readyFunc) error {
	// The binary owns the process, so it, not the mock library, turns off gin's debug output
	// (which would otherwise print every route on stdout, for validate too).
	gin.SetMode(gin.ReleaseMode)

	cmd, err := parseCommand(args, getenv)
	if errors.Is(err, errHelp) {
		printUsage(stdout)
		return nil
	}
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("%w (%s)", err, helpHintText))
	}
	switch cmd.name {
	case "help":
		printUsage(stdout)
		return nil
	case "version":
		fmt.Fprintf(stdout, "%s %s\n", programName, buildVersion())
		return nil
	case "validate":
		return validate(cmd.operand, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, cmd.cfg, stdout)
	default:
		return serve(ctx, cmd.cfg, stderr, ready)
	}
}
