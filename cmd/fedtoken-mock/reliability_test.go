package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fedtoken/fedtoken-mock/mock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hostile clients and process faults against the real binary, and the HTTP server limits of
// newHTTPServer in-process where a limit is too long to wait for.

// stalledConns opens n connections to addr that each send a partial request (the request line
// and the start of a header) and then stall, as a slowloris client does.
func stalledConns(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, waitLimit)
		require.NoError(t, err, "connection %d", i)
		conns = append(conns, c)
		_, err = fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: mock\r\nX-Slow-%d: a", tokenPath("mobypay"), i)
		require.NoError(t, err)
	}
	return conns
}

// freshClient opens a new connection per request, so a request cannot ride on an old one.
func freshClient() *http.Client {
	return &http.Client{Timeout: waitLimit, Transport: &http.Transport{DisableKeepAlives: true}}
}

// tokenOK sends one ordinary token request and reports what is wrong with its answer, if anything.
func tokenOK(client *http.Client, addr string) error {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+tokenPath("mobypay"), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer test-token")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Request-Id") == "" {
		return fmt.Errorf("status %d, Request-Id %q", resp.StatusCode, resp.Header.Get("Request-Id"))
	}
	return nil
}

// closedByServer waits (at most until the guard deadline) for the server to end c, and reports
// whether it did without sending a byte: a read that ends in EOF or a reset, not the deadline.
func closedByServer(c net.Conn, deadline time.Time) error {
	if err := c.SetReadDeadline(deadline); err != nil {
		return err
	}
	n, err := c.Read(make([]byte, 512))
	var ne net.Error
	switch {
	case n > 0:
		return fmt.Errorf("server answered %d bytes", n)
	case errors.As(err, &ne) && ne.Timeout():
		return errors.New("still open at the guard deadline")
	case err == nil:
		return errors.New("read returned nothing and no error")
	}
	return nil // io.EOF or ECONNRESET: the server closed it
}

// TestBinarySlowlorisKeepsServing: 200 connections stalled mid-header do not stop the binary
// from answering ordinary requests, and do not turn a clean shutdown into a cut one.
func TestBinarySlowlorisKeepsServing(t *testing.T) {
	p := serveBinary(t, "", nil, "--shutdown-timeout", "1s")
	waitHealthy(t, p.addr)
	stalled := stalledConns(t, p.addr, 200)

	client := freshClient()
	for i := range 50 {
		require.NoError(t, tokenOK(client, p.addr), "request %d with %d stalled connections", i, len(stalled))
	}
	// A stalled connection holds no request: shutdown has nothing to wait for, and the exit is
	// clean even though those connections outlast the shutdown timeout.
	p.signal(t, syscall.SIGTERM)
	code := p.wait(t)
	out := p.stderr.String()
	tail := out[max(0, len(out)-600):]
	assert.Equal(t, exitOK, code, tail)
	assert.False(t, strings.Contains(out, "shutdown timed out"), "nothing was in flight, nothing cut:\n%s", tail)
	assert.Contains(t, out, "msg=stopped")
}

// TestSlowHeadersAreCut runs the binary's own server (newHTTPServer) with a shorter
// ReadHeaderTimeout and IdleTimeout, the only changes, so the cut can be seen without waiting
// 10 s: stalled and trickling clients are disconnected, idle keep-alive connections closed, and
// ordinary requests keep succeeding throughout.
func TestSlowHeadersAreCut(t *testing.T) {
	ms, err := mock.New(mock.Options{})
	require.NoError(t, err)
	defer ms.Close()
	srv := newHTTPServer(ms.Handler(), slog.New(slog.DiscardHandler))
	require.Equal(t, readHeaderTimeout, srv.ReadHeaderTimeout, "the binary's server, with its own limit")
	srv.ReadHeaderTimeout, srv.IdleTimeout = 300*time.Millisecond, 300*time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		require.NoError(t, srv.Shutdown(context.Background()))
		assert.ErrorIs(t, <-served, http.ErrServerClosed)
	}()
	addr := ln.Addr().String()

	stalled := stalledConns(t, addr, 200)
	// A trickler sends one more header byte every few milliseconds: each byte arrives in time,
	// but ReadHeaderTimeout bounds the whole header, so it is cut all the same.
	trickler, err := net.DialTimeout("tcp", addr, waitLimit)
	require.NoError(t, err)
	defer trickler.Close()
	_, err = fmt.Fprintf(trickler, "POST %s HTTP/1.1\r\nHost: mock\r\nX-Trickle: ", tokenPath("mobypay"))
	require.NoError(t, err)
	trickleDone := make(chan struct{})
	go func() {
		defer close(trickleDone)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for range tick.C {
			if _, err := trickler.Write([]byte("a")); err != nil {
				return
			}
		}
	}()
	// A keep-alive client that goes quiet after its request.
	idle, err := net.DialTimeout("tcp", addr, waitLimit)
	require.NoError(t, err)
	defer idle.Close()
	_, err = fmt.Fprintf(idle, "POST %s HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer x\r\nContent-Length: 0\r\n\r\n", tokenPath("mobypay"))
	require.NoError(t, err)
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	client := freshClient()
	for i := range 20 {
		require.NoError(t, tokenOK(client, addr), "request %d", i)
	}
	deadline := time.Now().Add(waitLimit)
	for i, c := range stalled {
		require.NoError(t, closedByServer(c, deadline), "stalled connection %d", i)
	}
	assert.NoError(t, closedByServer(trickler, deadline), "trickling connection")
	trickler.Close()
	<-trickleDone
	require.NoError(t, idle.SetReadDeadline(deadline))
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "the idle keep-alive connection is closed by the server")
	require.NoError(t, tokenOK(client, addr), "still serving after cutting them")
}

// TestBinaryHeaderLimit: headers beyond MaxHeaderBytes (64 KiB; net/http allows 4 KiB of slack)
// are refused with 431 before any handler runs, and the server keeps serving; headers within it
// are answered normally.
func TestBinaryHeaderLimit(t *testing.T) {
	p := serveBinary(t, "", nil)
	waitHealthy(t, p.addr)
	many := map[string]string{}
	for i := range 2000 {
		many[fmt.Sprintf("X-Many-%04d", i)] = strings.Repeat("m", 40)
	}
	tests := []struct {
		name   string
		path   string
		header map[string]string
		status int
	}{
		{"60 KiB header", tokenPath("mobypay"), map[string]string{"X-Big": strings.Repeat("b", 60<<10)}, http.StatusOK},
		{"100 KiB header", tokenPath("mobypay"), map[string]string{"X-Big": strings.Repeat("b", 100<<10)}, http.StatusRequestHeaderFieldsTooLarge},
		{"2000 headers of 50 bytes", tokenPath("mobypay"), many, http.StatusRequestHeaderFieldsTooLarge},
		{"100 KiB provider in the request line", tokenPath(strings.Repeat("p", 100<<10)), nil, http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, "http://"+p.addr+tt.path, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer test-token")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := freshClient().Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.status, resp.StatusCode, "%.200s", body)
			require.NoError(t, tokenOK(freshClient(), p.addr), "serving after it")
		})
	}
	p.signal(t, syscall.SIGTERM)
	assert.Equal(t, exitOK, p.wait(t))
}

// TestBinaryUnusableScenarioDir: a scenario path that cannot be read as a directory stops the
// binary before it listens, with exit 2 and one line naming the cause; no stack trace.
func TestBinaryUnusableScenarioDir(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file.yaml")
	require.NoError(t, os.WriteFile(file, []byte("status: 200\n"), 0o600))
	dangling := filepath.Join(base, "dangling")
	require.NoError(t, os.Symlink(filepath.Join(base, "gone"), dangling))
	denied := filepath.Join(base, "denied")
	require.NoError(t, os.Mkdir(denied, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(denied, "a.yaml"), []byte("status: 200\n"), 0o600))
	require.NoError(t, os.Chmod(denied, 0))
	t.Cleanup(func() { _ = os.Chmod(denied, 0o700) })

	tests := []struct {
		name, dir, cause string
	}{
		{"a file, not a directory", file, "is not a directory"},
		{"a dangling symlink", dangling, "no such file or directory"},
		{"no permission (chmod 000)", denied, "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.dir == denied {
				if f, err := os.Open(denied); err == nil {
					f.Close()
					t.Skip("running with privileges that read a chmod 000 directory (root?): permission cannot be denied here")
				}
			}
			code, stdout, stderr := runBinary(t, nil, "--addr", "127.0.0.1:0", "--scenarios", tt.dir)
			assert.Equal(t, exitUsage, code, stderr)
			assert.Empty(t, stdout)
			assert.Regexp(t, `^fedtoken-mock: scenario directory: [^\n]*`+tt.cause+`[^\n]*\n$`, stderr, "exactly one line")
			assert.Contains(t, stderr, tt.dir)
			assert.NotContains(t, stderr, "listening")
		})
	}
}

// clientFrom makes a client whose connections come from the loopback address local, so one
// test can play several peers.
func clientFrom(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: waitLimit}
	return &http.Client{Timeout: waitLimit, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// TestBinaryAdminWrongTokenLoggedOncePerPeer: with an admin token set, every refused admin call
// is a 401, but the log gets one warning per source address however often it tries, naming the
// peer and never a token, right or wrong.
func TestBinaryAdminWrongTokenLoggedOncePerPeer(t *testing.T) {
	const secret = "s3cret-admin-token-7f3a"
	p := serveBinary(t, "", []string{"FEDTOKEN_MOCK_ADMIN_TOKEN=" + secret})
	waitHealthy(t, p.addr)

	peers := []string{"127.0.0.1"}
	// Linux routes all of 127/8 to the loopback, so a second peer is a second source address.
	if c, err := clientFrom("127.0.0.2").Get("http://" + p.addr + healthPath); err == nil {
		c.Body.Close()
		peers = append(peers, "127.0.0.2")
	} else {
		t.Logf("no second loopback source address here (%v); testing one peer", err)
	}
	wrong := []string{"Bearer wrong-token-1", "Bearer " + secret + "x", "bearer", "Basic " + secret, ""}
	calls := []struct{ method, path string }{
		{http.MethodGet, "/__admin/state"},
		{http.MethodPost, "/__admin/reload"},
		{http.MethodPut, "/__admin/scenario"},
		{http.MethodGet, "/__admin/requests"},
	}
	for _, peer := range peers {
		client := clientFrom(peer)
		for i, auth := range wrong {
			call := calls[i%len(calls)]
			req, err := http.NewRequest(call.method, "http://"+p.addr+call.path, strings.NewReader(`{"scenario":"not-found"}`))
			require.NoError(t, err)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := client.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s %s with %q from %s: %s", call.method, call.path, auth, peer, body)
			assert.Contains(t, string(body), `"code": "admin-unauthorized"`)
		}
		req, err := http.NewRequest(http.MethodGet, "http://"+p.addr+"/__admin/state", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "the right token from %s", peer)
	}
	p.stderr.waitFor(t, "admin call refused", len(peers))
	p.signal(t, syscall.SIGTERM)
	require.Equal(t, exitOK, p.wait(t))

	out := p.stderr.String()
	assert.Equal(t, len(peers), strings.Count(out, "admin call refused"), "one warning per peer:\n%s", out)
	for _, peer := range peers {
		assert.Contains(t, out, "peer="+peer)
	}
	assert.NotContains(t, out, secret)
	assert.NotContains(t, out, "wrong-token-1")
}
