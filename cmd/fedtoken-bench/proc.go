package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// serverCmd says how to launch one of the servers under test.
type serverCmd struct {
	Name string
	Path string
	// Args builds the command line for a listen address.
	Args func(addr string) []string
	// Log receives the server's stdout and stderr ("/dev/null" discards).
	Log string
}

// process is a started server that has answered its first 200.
type process struct {
	cmd     *exec.Cmd
	log     *os.File
	exited  chan struct{} // closed when the process has ended; waitErr is then set
	waitErr error
	Addr    string
	StartUp time.Duration // exec to first successful POST
}

// freeAddr picks a loopback port that is free right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer execs the server on a fresh port and waits for its first 200 on the token path.
func startServer(ctx context.Context, sc serverCmd, timeout time.Duration) (*process, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.OpenFile(sc.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", sc.Name, err)
	}
	cmd := exec.Command(sc.Path, sc.Args(addr)...)
	cmd.Stdout, cmd.Stderr = log, log
	began := time.Now()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", sc.Name, err)
	}
	p := &process{cmd: cmd, log: log, Addr: addr, exited: make(chan struct{})}
	go func() { p.waitErr = cmd.Wait(); close(p.exited) }()
	if err := waitFirst200(ctx, "http://"+addr+tokenPath, p.exited, timeout); err != nil {
		_ = p.Stop() // after Stop, p.exited is closed and waitErr safe to read
		if p.waitErr != nil {
			err = fmt.Errorf("%w (%v)", err, p.waitErr)
		}
		return nil, fmt.Errorf("%s did not answer 200: %w\nlast log lines (%s):\n%s", sc.Name, err, sc.Log, logTail(sc.Log))
	}
	p.StartUp = time.Since(began)
	return p, nil
}

// waitFirst200 polls every millisecond: coarse enough not to steal the starting server's CPU,
// fine enough for a 100 ms target. It gives up early when the server exits.
func waitFirst200(ctx context.Context, url string, exited <-chan struct{}, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer x")
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("status %d", resp.StatusCode)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("exited before answering")
		case <-time.After(time.Millisecond):
		}
	}
	return fmt.Errorf("no 200 within %s: %w", timeout, last)
}

// PeakRSS is the process's resident high-water mark so far.
func (p *process) PeakRSS() (int64, error) { return readHWM(p.cmd.Process.Pid) }

// CPUTime is the user plus system CPU the process used in its life; zero until it has exited.
func (p *process) CPUTime() time.Duration {
	select {
	case <-p.exited:
		return p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	default:
		return 0
	}
}

// Stop asks the server to shut down (SIGTERM, as a container runtime would) and kills it after 5 s.
func (p *process) Stop() error {
	defer p.log.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		var exit *exec.ExitError
		if errors.As(p.waitErr, &exit) && !exit.Exited() {
			return nil // ended by our signal
		}
		return p.waitErr
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return errors.New("did not stop within 5s of SIGTERM; killed")
	}
}

// logTail returns the end of a server's log, to show why it did not come up.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	const keep = 2000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(b)
}
