// Command fedtoken-bench measures fedtoken-mock against a bare net/http server doing the same
// work, on loopback with wrk, in interleaved rounds, and prints the ratios the performance
// targets are stated in. It is a tool, not a test: nothing here runs under go test.
//
//	go run ./cmd/fedtoken-bench [-rounds 5] [-duration 10s] [-files 1000] [-markdown] [-strict]
//	fedtoken-bench baseline --addr 127.0.0.1:PORT   # the baseline server alone
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fedtoken-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "baseline" {
		return runBaseline(ctx, args[1:], stderr)
	}
	fs := flag.NewFlagSet("fedtoken-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.IntVar(&c.Rounds, "rounds", 5, "interleaved rounds per path (0 skips the load runs)")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "wrk run length per server, path and round")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "unmeasured wrk run before each measured one (0 skips)")
	fs.IntVar(&c.Conns, "connections", 32, "wrk connections")
	fs.IntVar(&c.Threads, "threads", 2, "wrk threads")
	fs.IntVar(&c.Files, "files", 1000, "time the mock's start with this many generated scenario files (0 skips)")
	fs.StringVar(&c.MockBin, "mock", "", "use this fedtoken-mock binary instead of building ./cmd/fedtoken-mock")
	fs.StringVar(&c.MockLog, "mock-log", "", "file for the mock's log output (default: a file in the temp dir; /dev/null discards)")
	fs.BoolVar(&c.AA, "aa", false, "run the baseline on both sides, to check the harness and see the noise")
	fs.BoolVar(&c.Keep, "keep", false, "keep the temp dir (binaries, logs, scenario files)")
	markdown := fs.Bool("markdown", false, "print markdown tables (for the README)")
	strict := fs.Bool("strict", false, "exit 1 when a target is missed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := bench(ctx, c, stderr)
	if err != nil {
		return err
	}
	if err := writeReport(stdout, s, *markdown); err != nil {
		return err
	}
	if *strict && !allPass(checks(s)) {
		return errors.New("some targets were missed")
	}
	return nil
}

// runBaseline serves the baseline until the context ends, then shuts down like the mock does.
func runBaseline(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	// Accepted and ignored so that -aa can hand the baseline the mock's --scenarios flag.
	fs.String("scenarios", "", "ignored")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("baseline listen: %w", err)
	}
	srv := &http.Server{Handler: baselineHandler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("baseline serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}
