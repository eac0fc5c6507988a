package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fedtoken/fedtoken-mock/mock"
)

// HTTP server limits, chosen for a mock that real clients, CI suites and browsers hit:
//   - ReadHeaderTimeout cuts a client that trickles its headers (slowloris) after 10s.
//   - ReadTimeout bounds reading the whole request, body included (the endpoint reads at most
//     1 MiB of a body it ignores). It does not bound the handler: net/http clears the read
//     deadline once the body is consumed, so a delayed scenario is not cut by it.
//   - IdleTimeout closes keep-alive connections idle for 2 minutes, so idle clients cannot pile up.
//   - No WriteTimeout on purpose: net/http arms it when the request has been read, so it would
//     fail the writes of any delayed (slow: 2-5 s, or a user's delay: 30s) or hanging scenario
//     and turn a deliberate delay into a broken connection the scenario never asked for. A hang
//     is ended by the client giving up, or by mock.Close at shutdown.
//   - MaxHeaderBytes 64 KiB: ample for any SDK's headers, far below the 1 MiB default.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

// listener is one http.Server with the socket it serves.
type listener struct {
	flag string // the flag that configured it, for messages
	srv  *http.Server
	ln   net.Listener
}

// serve loads the scenarios, listens, and serves until ctx ends or SIGTERM/SIGINT arrives;
// SIGHUP reloads the scenarios meanwhile.
func serve(ctx context.Context, cfg config, stderr io.Writer, ready readyFunc) error {
	if cfg.scenarios != "" {
		if err := checkDir(cfg.scenarios); err != nil {
			return withCode(exitUsage, err)
		}
	}
	// Signals are caught from the start, so a SIGTERM sent as soon as the listening line appears
	// (or even before) is a clean shutdown rather than the default kill.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	out := newFlushWriter(stderr, logBufferSize, flushEvery)
	defer out.Close()
	logger := newLogger(out, cfg.logFormat, cfg.logLevel)

	ms, err := mock.New(mockOptions(cfg, logger))
	if err != nil {
		var le *mock.LoadError
		if errors.As(err, &le) {
			// Every problem, one per line, through the log writer so lines keep their order.
			for _, p := range le.Problems {
				fmt.Fprintln(out, p.String())
			}
			return withCode(exitUsage, fmt.Errorf("%d problem(s) in scenario files", len(le.Problems)))
		}
		return withCode(exitUsage, err) // an option the library refused, e.g. "latency: ..."
	}
	var closeOnce sync.Once
	closeMock := func() { closeOnce.Do(ms.Close) }
	defer closeMock()

	var inFlight atomic.Int64
	listeners, err := listen(cfg, ms, logger, &inFlight)
	if err != nil {
		return withCode(exitUsage, err)
	}
	// The endpoint's server releases held (hanging) requests once Shutdown has closed the
	// listeners: net/http runs OnShutdown hooks after that, so nothing new arrives after Close.
	listeners[0].srv.RegisterOnShutdown(closeMock)

	attrs := []any{"addr", listeners[0].ln.Addr().String()}
	if len(listeners) > 1 {
		attrs = append(attrs, "admin_addr", listeners[1].ln.Addr().String())
	}
	attrs = append(attrs, "version", buildVersion(), "auth", cfg.auth)
	if cfg.scenarios != "" {
		attrs = append(attrs, "scenarios_dir", cfg.scenarios)
	}
	logger.Info("listening", attrs...)
	_ = out.Flush() // tools wait for this line; do not make them wait for the next tick

	serveErr := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() {
			if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("%s: %w", l.flag, err)
			}
		}()
	}
	if ready != nil {
		if len(listeners) > 1 {
			ready(listeners[0].ln.Addr().String(), listeners[1].ln.Addr().String())
		} else {
			ready(listeners[0].ln.Addr().String(), "")
		}
	}

	reason := ""
	for reason == "" {
		select {
		case err := <-serveErr:
			closeAll(listeners)
			return withCode(exitFailure, fmt.Errorf("serve %w", err))
		case <-ctx.Done():
			reason = "context done"
		case s := <-sigs:
			if s == syscall.SIGHUP {
				reload(ms, logger)
				continue
			}
			reason = s.String()
		}
	}
	return shutdown(listeners, cfg.shutdownTimeout, reason, sigs, &inFlight, logger)
}

// mockOptions maps the configuration onto the library's options.
func mockOptions(cfg config, logger *slog.Logger) mock.Options {
	journal := cfg.journalSize
	if journal == 0 {
		journal = -1 // the flag's 0 means "no journal"; the library's 0 means "default size"
	}
	return mock.Options{
		Dir:         cfg.scenarios,
		AuthOff:     cfg.auth == "off",
		Seed:        cfg.seed,
		Logger:      logger,
		JournalSize: journal,
		AdminToken:  cfg.adminToken,
		MaxSessions: cfg.maxSessions,
		SessionTTL:  cfg.sessionTTL,
		Latency:     cfg.latency,
		Version:     buildVersion(),
	}
}

// listen binds every socket synchronously, so a port in use is an error here, before any log
// line claims the server is up. One port serves everything unless --admin-addr splits off the
// admin API.
func listen(cfg config, ms *mock.Server, logger *slog.Logger, inFlight *atomic.Int64) ([]listener, error) {
	type plan struct {
		flag, addr string
		h          http.Handler
	}
	plans := []plan{{"--addr", cfg.addr, ms.Handler()}}
	if cfg.adminAddr != "" {
		plans = []plan{{"--addr", cfg.addr, ms.EndpointHandler()}, {"--admin-addr", cfg.adminAddr, ms.AdminHandler()}}
	}
	var out []listener
	for _, p := range plans {
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			for _, l := range out {
				_ = l.ln.Close()
			}
			return nil, fmt.Errorf("%s: %w", p.flag, err)
		}
		out = append(out, listener{flag: p.flag, srv: newHTTPServer(countInFlight(p.h, inFlight, logger), logger), ln: ln})
	}
	return out, nil
}

// newHTTPServer applies the limits documented at the top of this file. Requests do not inherit
// run's context: cancelling it starts a graceful shutdown, which must let them finish.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// countInFlight keeps n equal to the number of requests being handled, for the shutdown report.
// At debug level it also logs each request's start (the mock logs its end), which shows what a
// held or hanging request was.
func countInFlight(h http.Handler, n *atomic.Int64, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		defer n.Add(-1)
		if logger.Enabled(r.Context(), slog.LevelDebug) {
			logger.Debug("request started", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		}
		h.ServeHTTP(w, r)
	})
}

func closeAll(listeners []listener) {
	for _, l := range listeners {
		_ = l.srv.Close()
	}
}

// reload re-reads the scenarios (SIGHUP) and logs the result, or every problem on its own line.
func reload(ms *mock.Server, logger *slog.Logger) {
	rep, err := ms.Reload()
	if err == nil {
		logger.Info("reloaded", "scenarios", rep.Scenarios, "dropped", rep.Dropped)
		return
	}
	var le *mock.LoadError
	if errors.As(err, &le) {
		for _, p := range le.Problems {
			logger.Error("reload failed; keeping the previous scenarios", "problem", p.String())
		}
		return
	}
	logger.Error("reload failed; keeping the previous scenarios", "err", err)
}

// shutdown stops accepting, lets in-flight requests finish (a delayed response completes; the
// mock releases hanging ones, see RegisterOnShutdown in serve) and cuts what is left at timeout.
// A second SIGTERM/SIGINT cuts at once.
func shutdown(listeners []listener, timeout time.Duration, reason string, sigs <-chan os.Signal, inFlight *atomic.Int64, logger *slog.Logger) error {
	logger.Info("shutting down", "reason", reason, "timeout", timeout.String(), "in_flight", inFlight.Load())
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		errs := make([]error, len(listeners))
		var wg sync.WaitGroup
		for i, l := range listeners {
			wg.Go(func() { errs[i] = l.srv.Shutdown(ctx) })
		}
		wg.Wait()
		done <- errors.Join(errs...)
	}()
	for {
		select {
		case err := <-done:
			switch {
			case err == nil:
				logger.Info("stopped")
				return nil
			case errors.Is(err, context.DeadlineExceeded):
				n := inFlight.Load()
				closeAll(listeners)
				if n == 0 {
					// Only connections without a complete request were left (a client stalled
					// mid-header): closing them cuts nothing, so the stop is a clean one.
					logger.Info("stopped", "note", "closed connections that had sent no complete request")
					return nil
				}
				logger.Error("shutdown timed out; cutting in-flight requests", "timeout", timeout.String(), "in_flight", n)
				return withCode(exitCut, fmt.Errorf("shutdown timed out after %s: %d request(s) cut", timeout, n))
			default:
				closeAll(listeners)
				return withCode(exitFailure, fmt.Errorf("shutdown: %w", err))
			}
		case s := <-sigs:
			if s == syscall.SIGHUP {
				continue // no reloads while stopping
			}
			n := inFlight.Load()
			closeAll(listeners)
			logger.Warn("forced exit", "signal", s.String(), "in_flight", n)
			return withCode(exitForced, fmt.Errorf("forced exit by a second signal (%s): %d request(s) cut", s, n))
		}
	}
}
