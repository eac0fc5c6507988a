package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHealthURL(t *testing.T) {
	tests := []struct {
		addr, admin, want string
	}{
		{":8080", "", "http://127.0.0.1:8080/__admin/health"},
		{"0.0.0.0:8080", "", "http://127.0.0.1:8080/__admin/health"},
		{"[::]:8080", "", "http://127.0.0.1:8080/__admin/health"},
		{"127.0.0.1:9000", "", "http://127.0.0.1:9000/__admin/health"},
		{"localhost:9000", "", "http://localhost:9000/__admin/health"},
		{"[::1]:9000", "", "http://[::1]:9000/__admin/health"},
		{":8080", ":8081", "http://127.0.0.1:8081/__admin/health"},
		{":8080", "10.1.2.3:8081", "http://10.1.2.3:8081/__admin/health"},
	}
	for _, tt := range tests {
		t.Run(tt.addr+"+"+tt.admin, func(t *testing.T) {
			assert.Equal(t, tt.want, healthURL(config{addr: tt.addr, adminAddr: tt.admin}))
		})
	}
}

// closedAddr is a loopback address nothing listens on (bound, then released).
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestHealthcheckCommand(t *testing.T) {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/__admin/health" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{\n  \"status\": \"ok\"\n}\n"))
	}))
	defer healthy.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	hostOf := func(s *httptest.Server) string { return s.Listener.Addr().String() }

	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"healthy via flag", []string{"healthcheck", "--addr", hostOf(healthy)}, nil, 0, `healthy: {"status":"ok"}`, ""},
		{"healthy via env", []string{"healthcheck"}, map[string]string{"FEDTOKEN_MOCK_ADDR": hostOf(healthy)}, 0, "healthy", ""},
		{"admin addr wins", []string{"healthcheck"}, map[string]string{
			"FEDTOKEN_MOCK_ADDR": closedAddr(t), "FEDTOKEN_MOCK_ADMIN_ADDR": hostOf(healthy)}, 0, "healthy", ""},
		{"PORT", []string{"healthcheck"}, map[string]string{"PORT": portOf(t, hostOf(healthy))}, 0, "healthy", ""},
		{"503", []string{"healthcheck", "--addr", hostOf(failing)}, nil, 1, "", "503 Service Unavailable"},
		{"nothing listening", []string{"healthcheck", "--addr", closedAddr(t)}, nil, 1, "", "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, envOf(tt.env), &stdout, &stderr, nil)
			assert.Equal(t, tt.wantCode, exitCode(err, &stderr))
			assert.Contains(t, stdout.String(), tt.wantOut)
			assert.Contains(t, stderr.String(), tt.wantErr)
		})
	}
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return port
}

func TestValidateUnusableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file.yaml")
	require.NoError(t, os.WriteFile(file, []byte("status: 200\n"), 0o600))
	tests := []struct {
		name, dir, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "nope"), "no such file or directory"},
		{"a file", file, "is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"validate", tt.dir}, envOf(nil), &stdout, &stderr, nil)
			assert.Equal(t, exitUsage, exitCode(err, &stderr))
			assert.Contains(t, stderr.String(), tt.want)
			assert.Empty(t, stdout.String())
		})
	}
}

func TestServeUnusableScenarioDir(t *testing.T) {
	var stdout, stderr bytes.Buffer
	dir := filepath.Join(t.TempDir(), "nope")
	err := run(context.Background(), []string{"--addr", "127.0.0.1:0", "--scenarios", dir}, envOf(nil), &stdout, &stderr, nil)
	assert.Equal(t, exitUsage, exitCode(err, &stderr))
	assert.Contains(t, stderr.String(), "scenario directory: ")
	assert.Contains(t, stderr.String(), dir)
}

func TestCountScenarioFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.yaml", "b.yml", "c.json", "README.md", "notes.txt", ".hidden.yaml", "upper.YAML"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o600))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o700))
	assert.Equal(t, 3, countScenarioFiles(dir))
}

func TestBuildVersionNeverEmpty(t *testing.T) {
	assert.NotEmpty(t, buildVersion())
}
